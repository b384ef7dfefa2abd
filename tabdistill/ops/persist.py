"""Saving and loading fitted models in a format that cannot run code on load.

Full estimators (a :class:`~tabdistill.DistilledClassifier` with its teacher)
are stored with skops, which rebuilds objects from a schema instead of
unpickling them, and loaded only when every type in the file is on
:data:`TRUSTED_TYPES`. The deployable student is stored as a runtime ``.npz``
(arrays + JSON, see :mod:`tabdistill_runtime.format`). Pickle/joblib exist only behind
:func:`load_pickle_i_trust_this_file`, for files you made yourself.

Trusted types are not enough: the libraries rebuild their models from the
file's contents, and some do not survive damaged ones. LightGBM ends the process
on a malformed model string (one digit edited in its ``tree_sizes`` line), and a
scikit-learn tree with a child index out of range reads outside its arrays when
it predicts; an edited threshold or leaf value is silently a different model.
So :func:`save_model` writes a digest into the file (:data:`DIGEST`: the SHA-256
of every other member of the archive) and :func:`load_model` checks it before
anything is rebuilt: any change to a saved file is refused with an
:class:`~tabdistill.exceptions.ArtifactError`. A digest detects damage and
edits, not a forger, who can recompute it; so every LightGBM model string is
also checked against the rules of LightGBM's parser and tree walk before
LightGBM sees it (:mod:`.lightgbm_text`), and every scikit-learn tree is
checked before it can predict (:mod:`.sklearn_trees`): a file that passes
cannot make either abort, read out of bounds or loop, digest or not. Files
saved before digests existed still load, with these checks and a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..exceptions import ArtifactError
from .files import TMP_PREFIX
from .lightgbm_text import check_model_text, is_model_text
from .sklearn_trees import check_trees

#: The archive member holding the digest: ``{"sha256": {member: hex digest}}``.
DIGEST = "tabdistill-digest.json"
_CHUNK = 1 << 20

#: Types a tabdistill model file may contain besides skops' own defaults.
TRUSTED_TYPES = frozenset(
    {
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "sklearn.tree._tree.Tree",  # inside every forest member and the tree student
        "xgboost.core.Booster",
        "xgboost.sklearn.XGBClassifier",
        "tabdistill.data.encoder.TabularEncoder",
        "tabdistill.data.schema.FeatureSchema",  # in models saved before the runtime split off
        "tabdistill_runtime.schema.FeatureSchema",
        "tabdistill.distill.distiller.DistilledClassifier",
        "tabdistill.distill.frontier.FrontierPoint",
        "tabdistill.distill.selection.Knobs",
        "tabdistill.distill.linear.LinearDesign",
        "tabdistill.distill.linear.SparseLinearDesign",
        "tabdistill.distill.members.FoldAverage",
        "tabdistill.distill.students.LightGBMStudent",
        "tabdistill.distill.students.LinearStudent",
        "tabdistill.distill.students.TreeStudent",
        "tabdistill.distill.teacher.TeacherEnsemble",
    }
)


def save_model(model, path) -> Path:
    """Save a fitted tabdistill estimator with skops, with a digest of its contents.

    The file is written beside ``path`` and renamed into place, so a failure
    never leaves a half-written file where a model was. Returns the path.
    """
    import skops.io as sio

    path = Path(path)
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        sio.dump(model, tmp)
        with zipfile.ZipFile(tmp, "a") as zf:
            digest = {m.filename: _sha256(zf, m) for m in zf.infolist()}
            zf.writestr(DIGEST, json.dumps({"sha256": digest}, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_model(path, extra_trusted=()):
    """Load a model saved by :func:`save_model`, refusing anything untrusted or altered.

    Parameters
    ----------
    path : str or path-like
    extra_trusted : iterable of str, default=()
        More fully qualified type names to trust (e.g. your own member classes).

    Raises
    ------
    ArtifactError
        If the file is missing, is not a skops file (a pickle, say), holds a
        type that is not trusted, differs from what was saved (its digest does
        not match), or holds a LightGBM model LightGBM could not load safely.
        Nothing in the file is executed, and nothing is rebuilt before these
        checks pass.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"model file not found: '{path}'.")
    if not zipfile.is_zipfile(path):
        raise ArtifactError(
            f"'{path}' is not a skops model file (pickle and joblib files are refused because "
            "loading them can run code; use load_pickle_i_trust_this_file for your own files)."
        )
    _check_contents(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises many types on a corrupt archive
        raise ArtifactError(f"'{path}' is not a readable skops model file ({exc}).") from None
    refused = sorted(set(untrusted) - TRUSTED_TYPES - set(extra_trusted))
    if refused:
        raise ArtifactError(
            f"'{path}' contains types that are not trusted: {refused}. Nothing was loaded. "
            "If you made this file yourself, pass them as extra_trusted."
        )
    try:
        model = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ArtifactError(f"could not load '{path}': {exc}") from None
    try:
        check_trees(model)
    except ValueError as exc:
        raise ArtifactError(
            f"'{path}' holds a damaged scikit-learn tree ({exc}); it cannot predict safely. "
            "Restore the file, or save the model again."
        ) from None
    _check_predicts(model, path)
    return model


def _check_predicts(model, path) -> None:
    """One row of zeros through the loaded model: an altered file fails here, not in use.

    A file without a digest (or a forged one) can rebuild an estimator that lacks
    an attribute or holds one of the wrong kind; it would fail deep inside its
    library at the first prediction. Models without ``n_features_in_`` (an
    encoder alone) are not tried.
    """
    predict = getattr(model, "predict_proba", None) or getattr(model, "predict", None)
    n_features = getattr(model, "n_features_in_", None)
    if predict is None or n_features is None:
        return
    try:
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            import pandas as pd

            row = pd.DataFrame({name: [0.0] for name in names})
        else:
            row = np.zeros((1, int(n_features)))
        predict(row)
    except Exception as exc:
        raise ArtifactError(
            f"'{path}' loads but cannot predict ({type(exc).__name__}: {exc}); it is not what "
            "was saved. Restore the file, or save the model again."
        ) from None


def _sha256(zf: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    with zf.open(member) as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_contents(path: Path) -> None:
    """The digest (if the file has one) and every LightGBM model string, before skops reads."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = {m.filename: m for m in zf.infolist()}
            if DIGEST in members:
                _check_digest(path, zf, members)
            else:
                warnings.warn(
                    f"'{path}' has no digest (saved before tabdistill wrote them), so a change "
                    "to it cannot be detected; save it again with save_model to add one.",
                    stacklevel=3,
                )
            schema = json.loads(zf.read("schema.json"))
    except ArtifactError:
        raise
    except Exception as exc:  # zip, JSON, a missing schema: not a readable skops file
        raise ArtifactError(f"'{path}' is not a readable skops model file ({exc}).") from None
    for text in _lightgbm_texts(schema):
        try:
            check_model_text(text)
        except ValueError as exc:
            raise ArtifactError(
                f"'{path}' holds a damaged LightGBM model ({exc}); LightGBM cannot load it. "
                "Nothing was loaded. Restore the file, or save the model again."
            ) from None


def _check_digest(path, zf: zipfile.ZipFile, members: dict) -> None:
    try:
        expected = json.loads(zf.read(DIGEST))["sha256"]
        if not isinstance(expected, dict):
            raise TypeError("not a mapping")
    except Exception:
        raise ArtifactError(
            f"'{path}' has a damaged digest ({DIGEST}). Nothing was loaded."
        ) from None
    names = set(members) - {DIGEST}
    changed = sorted(names ^ set(expected))
    changed += sorted(n for n in names & set(expected) if _sha256(zf, members[n]) != expected[n])
    if changed:
        raise ArtifactError(
            f"'{path}' is not the file that was saved: {changed[:3]} differ from its digest "
            "(edited, damaged or truncated). Nothing was loaded. Restore the file, or save the "
            "model again."
        )


def _lightgbm_texts(node):
    """Every LightGBM model string in a skops schema (stored as text or as a JSON string)."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if node.startswith('"tree\\nversion='):
                node = json.loads(node)
            if is_model_text(node):
                yield node


def load_pickle_i_trust_this_file(path):
    """Load a joblib/pickle file. **Runs whatever code the file holds**: your own files only."""
    import joblib

    return joblib.load(path)
