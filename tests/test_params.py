"""Parameter validation against declared constraints."""

import numpy as np
import pytest

from tabdistill import DistilledClassifier, TeacherEnsemble
from tabdistill._params import Interval, InvalidParameterError, Options


def test_interval_bounds_and_types():
    from numbers import Integral, Real

    assert Interval(Integral, 1, None, "left").accepts(1)
    assert not Interval(Integral, 1, None, "left").accepts(0)
    assert not Interval(Integral, 1, None, "left").accepts(1.5)
    assert not Interval(Integral, 1, None, "left").accepts(True)  # never a number here
    assert Interval(Real, 0, 1, "neither").accepts(np.float32(0.5))
    assert not Interval(Real, 0, 1, "neither").accepts(1.0)
    assert Options({"a", "b"}).accepts("a") and not Options({"a"}).accepts("c")


@pytest.mark.parametrize(
    "params, name",
    [
        ({"temperature": 0}, "temperature"),
        ({"student": "forest"}, "student"),
        ({"refit": "yes"}, "refit"),
        ({"random_state": -1}, "random_state"),
        ({"validation_split": "last"}, "validation_split"),
    ],
)
def test_bad_values_name_the_parameter_and_what_it_may_be(params, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of DistilledClassifier"):
        DistilledClassifier(**params).check_params()


def test_invalid_parameter_error_is_a_value_and_a_type_error():
    with pytest.raises(ValueError):
        TeacherEnsemble(n_selection_rounds=0).check_params()
    with pytest.raises(TypeError):
        TeacherEnsemble(cv="five").check_params()


def test_scikit_learn_private_modules_are_not_imported():
    from pathlib import Path

    import tabdistill

    root = Path(tabdistill.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "_fit_context" in p.read_text() or "sklearn.utils._" in p.read_text()
    ]
    assert offenders == []
