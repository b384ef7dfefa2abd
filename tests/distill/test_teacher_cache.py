"""A teacher's memory folder: the same fit read back, never a stale one."""

import numpy as np
from conftest import FAST_MEMBERS, mixed_frame

from tabdistill import TeacherEnsemble


def _fit(tmp_path, X, y, **params):
    return TeacherEnsemble(
        members=FAST_MEMBERS, cv=3, random_state=0, memory=tmp_path, **params
    ).fit(X, y)


def test_a_second_identical_fit_is_read_from_memory(tmp_path):
    X, y = mixed_frame(300, seed=2)
    first = _fit(tmp_path, X, y)
    second = _fit(tmp_path, X, y)
    assert not first.from_cache_ and second.from_cache_
    assert len(list(tmp_path.glob("teacher-*.joblib"))) == 1
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    np.testing.assert_array_equal(first.oof_proba_, second.oof_proba_)
    assert second.fit_seconds_ == first.fit_seconds_  # what the fit cost, not the read


def test_other_rows_or_parameters_fit_again(tmp_path):
    X, y = mixed_frame(300, seed=2)
    _fit(tmp_path, X, y)
    assert not _fit(tmp_path, X, y, early_stopping_rounds=5).from_cache_
    assert not _fit(tmp_path, X.iloc[:-10], y[:-10]).from_cache_
    assert len(list(tmp_path.glob("teacher-*.joblib"))) == 3


def test_a_time_limited_fit_is_never_cached(tmp_path):
    X, y = mixed_frame(300, seed=2)
    _fit(tmp_path, X, y, time_limit=60)
    assert not list(tmp_path.glob("teacher-*"))
