"""Numbers written as text: one format per column, read value by value."""

import numpy as np
import pytest

from tabdistill_runtime.exceptions import SchemaError
from tabdistill_runtime.number_formats import (
    PLAIN,
    check_number_format,
    number_format,
    parse_number,
    parse_numbers,
    to_number,
)

MONEY = number_format(currency="$", parens=True)
PERCENT = number_format(percent=True)
EURO = number_format(currency="€", thousands=".", decimal=",")


@pytest.mark.parametrize(
    ("text", "spec", "value"),
    [
        ("$60,000.00", MONEY, 60000.0),
        ("  $60,000.00 ", MONEY, 60000.0),
        ("(1,234.50)", MONEY, -1234.5),
        ("($1,234.50)", MONEY, -1234.5),
        ("$(1,234.50)", MONEY, -1234.5),
        ("-$5", MONEY, -5.0),
        ("$-5", MONEY, -5.0),
        ("5 $", MONEY, 5.0),
        ("1,234,567.89", MONEY, 1234567.89),
        ("13.5%", PERCENT, 13.5),
        (" 7.25 % ", PERCENT, 7.25),
        ("13.5", PERCENT, 13.5),
        ("1.234,50 €", EURO, 1234.5),
        ("€ -1.234", EURO, -1234.0),
        ("12,5", EURO, 12.5),
        ("0.5", PLAIN, 0.5),
        (".5", PLAIN, 0.5),
        ("1e-05", PLAIN, 1e-05),
        ("-2.5E+3", PLAIN, -2500.0),
        ("123456789012345", PLAIN, 123456789012345.0),
        ("inf", PLAIN, np.inf),
        ("-Infinity", PLAIN, -np.inf),
    ],
)
def test_text_reads_as_its_number(text, spec, value):
    assert parse_number(text, spec) == value


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("abc", MONEY),
        ("1976A", PLAIN),
        ("007", PLAIN),  # a leading zero makes a code
        ("1234567890123456", PLAIN),  # so do 16 digits
        ("12,34", MONEY),  # a group of two digits
        ("(5)", PLAIN),  # parentheses only where the format has them
        ("(-5)", MONEY),
        ("--5", PLAIN),
        ("(5", MONEY),
        ("$5$", MONEY),
        ("5%", MONEY),
        ("€5", MONEY),  # another currency
        ("1.5", EURO),
    ],
)
def test_other_text_is_a_stray(text, spec):
    assert parse_number(text, spec) is None


@pytest.mark.parametrize("text", ["", "  ", "NA", "N/A", "nan", "NaN", "null", "None", "-"])
def test_missing_text_is_missing(text):
    assert np.isnan(parse_number(text, MONEY))


def test_parse_numbers_marks_strays_and_takes_numbers_as_they_are():
    values, stray = parse_numbers(["$5.00", 3, True, None, np.nan, "abc", object()], MONEY)
    np.testing.assert_array_equal(values[:3], [5.0, 3.0, 1.0])
    assert np.isnan(values[3:]).all()
    assert stray.tolist() == [False, False, False, False, False, True, True]
    with pytest.raises(OverflowError):
        to_number(10**400, PLAIN)


@pytest.mark.parametrize(
    "spec",
    [
        {"format": "date"},
        {**PLAIN, "currency": "1"},
        {**PLAIN, "currency": "$("},
        {**PLAIN, "thousands": "_"},
        {**PLAIN, "decimal": ","},
        {**PLAIN, "percent": "yes"},
        {**PLAIN, "extra": 1},
        "number",
    ],
)
def test_invalid_formats_are_schema_errors(spec):
    with pytest.raises(SchemaError):
        check_number_format(spec)
