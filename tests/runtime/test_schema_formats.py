"""The schema's value formats: saved, loaded, checked, and schemas saved before them."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from tabdistill.data import TabularEncoder
from tabdistill.data.datasets import make_loans
from tabdistill_runtime.exceptions import DataWarning, SchemaError
from tabdistill_runtime.schema import FeatureSchema


@pytest.fixture(scope="module")
def fitted():
    X = make_loans(400, random_state=1).drop(columns="default")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return X, TabularEncoder().fit(X)


def test_formats_round_trip_through_json(fitted):
    _, encoder = fitted
    data = encoder.schema_.to_dict()
    assert data["formats"]["loan_amnt"]["currency"] == "$"
    assert data["date_formats"]["issue_d"] == "%d-%b-%y"  # for readers older than formats
    again = FeatureSchema.from_dict(data)
    assert again == encoder.schema_ and again.recognised == encoder.schema_.recognised


def test_schemas_saved_before_formats_read_plain_numbers_and_their_layouts(fitted):
    X, encoder = fitted
    data = encoder.schema_.to_dict()
    old = {k: v for k, v in data.items() if k not in ("formats", "recognised")}
    schema = FeatureSchema.from_dict(old)
    assert schema.formats["issue_d"] == {"format": "date", "layout": "%d-%b-%y", "tz": "any"}
    assert schema.formats["loan_amnt"]["currency"] == ""  # plain: as numbers were read before
    state = {k: v for k, v in encoder.schema_.__getstate__().items() if k != "formats"}
    state["date_formats"] = dict(encoder.schema_.date_formats)
    pickled = pickle.loads(pickle.dumps(encoder.schema_))
    assert pickled == encoder.schema_
    revived = FeatureSchema.__new__(FeatureSchema)
    revived.__setstate__(state)
    assert revived.formats["issue_d"]["tz"] == "any" and revived.date_formats == schema.date_formats
    frame = {c: X[c].to_numpy() for c in X.columns}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        Z = revived.encode_columns(frame)
    j = revived.features.index("issue_d.year")
    np.testing.assert_array_equal(Z[:, j], pd.to_datetime(X["issue_d"], format="%d-%b-%y").dt.year)


@pytest.mark.parametrize(
    "formats",
    [
        {"loan_amnt": {"format": "number", "currency": "$"}},
        {"loan_amnt": {"format": "date", "layout": "iso8601", "tz": "naive"}},
        {"issue_d": {"format": "date", "layout": "%Q", "tz": "naive"}},
        {"issue_d": {"format": "date", "layout": "iso8601", "tz": "local"}},
        {"issue_d": {"format": "roman"}},
    ],
)
def test_invalid_formats_are_refused(fitted, formats):
    _, encoder = fitted
    data = encoder.schema_.to_dict()
    data["formats"] = {**data["formats"], **formats}
    with pytest.raises(SchemaError, match="invalid feature schema"):
        FeatureSchema.from_dict(data)
