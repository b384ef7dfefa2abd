"""The benchmark's text: the header counts the input's feature columns and says how many
fit dropped."""

from tabdistill.evaluate.summary_text import features_text


def test_the_header_says_how_many_feature_columns_were_dropped():
    assert features_text({"features": 23, "encoding": {"dropped": {}}}) == "23 features"
    summary = {"features": 4, "encoding": {"dropped": {"Unnamed: 4": "empty", "id": "ID-like"}}}
    assert features_text(summary) == "4 features (2 dropped)"
    assert features_text({"features": 3}) == "3 features"  # a summary without its encoding
