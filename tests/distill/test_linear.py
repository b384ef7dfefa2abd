import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from tabdistill.distill.linear import LinearDesign, SparseLinearDesign
from tabdistill.distill.members import build_member


def _encoded(n=600, seed=0):
    """Two numeric columns with NaN, a categorical one with NaN, a wide categorical one."""
    rng = np.random.default_rng(seed)
    Z = np.column_stack(
        [
            rng.normal(size=n),
            rng.integers(0, 4, n).astype(float),
            rng.normal(size=n),
            rng.integers(0, 40, n).astype(float),
        ]
    )
    Z[rng.random(n) < 0.1, 0] = np.nan
    Z[rng.random(n) < 0.1, 1] = np.nan
    y = (np.nan_to_num(Z[:, 0]) + (Z[:, 3] % 3 == 0) + rng.normal(size=n) > 0.5).astype(int)
    return Z, y, np.array([False, True, False, True])


def test_sparse_design_equals_the_dense_one_entry_for_entry():
    Z, _, cat = _encoded()
    dense = LinearDesign(categorical_mask=cat).fit(Z[:400])
    thin = SparseLinearDesign(categorical_mask=cat).fit(Z[:400])
    Z_new = Z.copy()
    Z_new[:5, 1] = 9.0  # a level unseen at fit: all zeros
    Z_new[5:10, 3] = -1.0  # the encoder's code for a rare level: all zeros
    Z_new[10:15, 2] = np.nan  # missing where fit saw none: the median
    out = thin.transform(Z_new)
    assert sparse.isspmatrix_csr(out)
    np.testing.assert_array_equal(out.toarray(), dense.transform(Z_new))
    # one entry per numeric column (and its missing flag) and per known level, no more
    assert out.nnz < dense.transform(Z_new).size / 5


def test_sparse_design_block_by_block_equals_it_in_one_go(monkeypatch):
    from tabdistill.distill import linear

    Z, _, cat = _encoded()
    thin = SparseLinearDesign(categorical_mask=cat).fit(Z)
    whole = thin.transform(Z)
    monkeypatch.setattr(linear, "SPARSE_BLOCK_ROWS", 64)  # 600 rows: ten blocks, the last short
    blocked = thin.transform(Z)
    assert sparse.isspmatrix_csr(blocked)
    np.testing.assert_array_equal(blocked.toarray(), whole.toarray())


def test_sparse_design_of_no_rows_and_no_columns():
    Z, _, cat = _encoded()
    thin = SparseLinearDesign(categorical_mask=cat).fit(Z)
    assert thin.transform(Z[:0]).shape == (0, thin.n_output_)
    empty = SparseLinearDesign().fit(np.zeros((3, 0)))
    assert empty.transform(np.zeros((3, 0))).shape == (3, 0)


@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_member_fits_the_sparse_design_to_the_dense_fit(weighted):
    Z, y, cat = _encoded(seed=1)
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y)) if weighted else None
    member = build_member("logistic", None, cat, seed=0, n_jobs=1)
    assert isinstance(member[0], SparseLinearDesign)
    member.fit(Z, y, model__sample_weight=w)
    design = LinearDesign(categorical_mask=cat).fit(Z)
    dense = LogisticRegression(C=1.0, max_iter=2000).fit(design.transform(Z), y, sample_weight=w)
    np.testing.assert_allclose(
        member.predict_proba(Z), dense.predict_proba(design.transform(Z)), atol=1e-6
    )
