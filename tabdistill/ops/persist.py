"""Saving and loading fitted models in a format that cannot run code on load.

Full estimators (a :class:`~tabdistill.DistilledClassifier` with its teacher)
are stored with skops, which rebuilds objects from a schema instead of
unpickling them, and loaded only when every type in the file is on
:data:`TRUSTED_TYPES`. The deployable student is stored as a runtime ``.npz``
(arrays + JSON, see :mod:`tabdistill_runtime.format`). Pickle/joblib exist only behind
:func:`load_pickle_i_trust_this_file`, for files you made yourself.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..exceptions import ArtifactError

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
        "tabdistill.distill.linear.LinearDesign",
        "tabdistill.distill.members.FoldAverage",
        "tabdistill.distill.students.LightGBMStudent",
        "tabdistill.distill.students.LinearStudent",
        "tabdistill.distill.students.TreeStudent",
        "tabdistill.distill.teacher.TeacherEnsemble",
    }
)


def save_model(model, path) -> Path:
    """Save a fitted tabdistill estimator with skops; returns the path."""
    import skops.io as sio

    path = Path(path)
    sio.dump(model, path)
    return path


def load_model(path, extra_trusted=()):
    """Load a model saved by :func:`save_model`, refusing anything untrusted.

    Parameters
    ----------
    path : str or path-like
    extra_trusted : iterable of str, default=()
        More fully qualified type names to trust (e.g. your own member classes).

    Raises
    ------
    ArtifactError
        If the file is missing, is not a skops file (a pickle, say), or holds
        a type that is not trusted. Nothing in the file is executed.
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
        return sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ArtifactError(f"could not load '{path}': {exc}") from None


def load_pickle_i_trust_this_file(path):
    """Load a joblib/pickle file. **Runs whatever code the file holds**: your own files only."""
    import joblib

    return joblib.load(path)
