"""Deciding at fit, from the values, whether text is numbers and whether numbers are times."""

import numpy as np
import pandas as pd
import pytest

from tabdistill.data.detect import read_numbers, unix_layout


def _read(values):
    return read_numbers(pd.Series(values, dtype=object))


@pytest.mark.parametrize(
    ("values", "spec", "recognised"),
    [
        (
            ["$60,000.00", "$1,200.50", None, "$5.00"],
            {"currency": "$"},
            ["currency '$'", "thousands separator ','"],
        ),
        (
            ["(1,234.50)", "2.00", "3"],
            {"parens": True},
            ["thousands separator ','", "accounting negatives (1.5)"],
        ),
        (["13.5%", " 7.25% ", "NA"], {"percent": True}, ["percent sign", "surrounding spaces"]),
        (["1.234,50 €", "12,00 €"], {"currency": "€", "thousands": ".", "decimal": ","}, None),
        (["1,5", "2,25", "3"], {"thousands": ".", "decimal": ","}, ["decimal comma ','"]),
        (["1.5", "2", "-3e-05"], {"thousands": ",", "decimal": "."}, []),
    ],
)
def test_number_formats_are_recognised(values, spec, recognised):
    reading = _read(values * 10)
    assert reading is not None
    assert {k: reading.spec[k] for k in spec} == spec
    assert reading.stray_rows == 0
    if recognised is not None:
        assert reading.recognised == recognised


def test_a_few_strays_keep_the_column_numeric_and_are_counted():
    reading = _read(["1976"] * 1199 + ["1976A"])
    assert reading.rows == 1200 and reading.stray_rows == 1 and reading.strays == ["1976A"]
    mixed = _read([1.5, "abc", 2.5] * 10 + [3.0] * 600)  # numbers with one text value
    assert mixed.stray_rows == 10 and mixed.strays == ["abc"]


@pytest.mark.parametrize(
    "values",
    [
        ["red", "blue"],
        ["A1", "B2", "C3"],
        ["007", "012", "5"],  # codes with leading zeros
        ["1", "2", "x", "y"] * 5,  # too many strays: categories
        ["NA", "null"],
        [],
    ],
)
def test_text_that_is_not_numbers_is_left_alone(values):
    assert _read(values) is None


@pytest.mark.parametrize(
    ("name", "values", "layout"),
    [
        ("created_at", [1.6e9, 1.7e9], "unix_s"),
        ("event_ts", [1.6e12, 1.7e12, np.nan], "unix_ms"),
        ("amount", [1.6e9, 1.7e9], None),  # not named like a time
        ("created_at", [1.6e9, 1.6e9], None),  # one value
        ("created_at", [1.6e9, 1.5e9 + 0.5], None),  # not whole
        ("created_at", [12.0, 1.7e9], None),  # not all in 1980-2100
    ],
)
def test_unix_times_need_a_time_name_and_time_values(name, values, layout):
    assert unix_layout(name, np.array(values)) == layout
