"""The bundled datasets are the corrected copies of their sources."""

from tabdistill import load_dataset


def test_credit_default_sex_is_spelled_out_as_in_the_source():
    frame = load_dataset("credit_default", as_frame=True)
    assert frame.shape == (30_000, 24)
    counts = frame["SEX"].value_counts(dropna=False).to_dict()
    assert counts == {"female": 18_112, "male": 11_888}  # source codes 2 and 1
    assert round(frame["default"].mean(), 3) == 0.221
