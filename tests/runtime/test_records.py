"""The compiled record reader against the Python one, value by value.

Whatever the compiled reader returns must be what :func:`read_record` computes, to the bit,
for a record Python reads without a warning or an error; everything else it must leave to
Python (return None). Values are generated: numbers in every number format (currency,
thousands, percent, accounting negatives) and mangled, dates in every layout with and
without zones, Unix times, levels of every type, NaN, None, huge and odd values.
"""

import math
import random
import warnings
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from tabdistill_runtime import records
from tabdistill_runtime.dates import FORMATS, ISO, PARTS, UNIX_MILLISECONDS, UNIX_SECONDS
from tabdistill_runtime.number_formats import number_format
from tabdistill_runtime.schema import FeatureSchema

pytestmark = pytest.mark.skipif(records._records is None, reason="compiled reader not built")

LAYOUTS = (ISO, UNIX_SECONDS, UNIX_MILLISECONDS, *FORMATS)
LEVELS = ["a", "b", "4", "1", "0", "x y", "2.5", "007", "Zürich"]


def schema_of(number=None, layout=ISO, tz="naive", dropped=("id",)):
    """Columns: a number, a category, a frequency-less date with every part, and ``dropped``."""
    date_features = [f"d_{p}" for p in PARTS]
    features = ["num", "cat", *date_features]
    roles = {"num": "numeric", "cat": "categorical", **dict.fromkeys(date_features, "date")}
    return FeatureSchema(
        features,
        roles,
        {"cat": sorted(LEVELS)},
        ["num", "cat", "d", *dropped],
        dropped=dict.fromkeys(dropped, "id"),
        lower=[-5.0] + [0.0] * 8,
        upper=[7.0] + [0.0] * 8,
        derived={f"d_{p}": ("d", p) for p in PARTS},
        formats={
            "num": number or number_format(),
            "d": {"format": "date", "layout": layout, "tz": tz},
        },
    )


def agree(schema, record, allow_missing=False) -> bool:
    """Whether the compiled reader read ``record``; fails if it read it otherwise than Python."""
    got = records.compiled_reader(schema)(record, allow_missing)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            want = records.read_record(schema, record, False, allow_missing)
        except (ValueError, TypeError, OverflowError) as exc:
            want = exc
    if got is not None:
        assert isinstance(want, np.ndarray), (record, want)
        assert not caught, (record, [str(w.message) for w in caught])
        assert got.tobytes() == want.tobytes(), (record, got, want)
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        try:
            through = schema.encode_record(record, False, allow_missing)
        except (ValueError, TypeError, OverflowError) as exc:
            through = exc
    if isinstance(want, np.ndarray):
        assert through.tobytes() == want.tobytes()
        assert [str(w.message) for w in again] == [str(w.message) for w in caught]
    else:
        assert type(through) is type(want) and str(through) == str(want)
    return got is not None


def record(num=1.0, cat="a", d=None, **more):
    return {"num": num, "cat": cat, "d": d, **more}


# -- numbers


FORMATS_OF_NUMBERS = [
    number_format(),
    number_format(currency="$", parens=True),
    number_format(currency="€", thousands=".", decimal=",", percent=True),
    number_format(currency="kr", thousands=" ", decimal=","),
    number_format(currency="E", thousands="'", parens=True, percent=True),
    number_format(currency="CHF", thousands="\u00a0"),
    number_format(thousands=""),
]
MARKS = ["", " ", "-", "+", "(", ")", "%", "$", "€", "kr", "E", "e", ",", ".", "'", "\u00a0", "0"]


def number_texts(spec, rng, n):
    """Texts that read in ``spec``, and mangled ones that may not."""
    cur, th, dec = spec["currency"], spec["thousands"], spec["decimal"]
    for _ in range(n):
        x = rng.choice([0, 1, 7, 999, 1000, 123456.75, 1e15, 0.001, rng.uniform(-1e7, 1e7)])
        whole, frac = f"{abs(x):.{rng.choice([0, 2, 6])}f}".partition(".")[::2]
        if th and rng.random() < 0.6:
            whole = f"{int(whole):,}".replace(",", th)
        text = whole + (dec + frac if frac else "")
        if rng.random() < 0.1:
            text += rng.choice(["e5", "E-3", "e+400", "e"])
        if rng.random() < 0.3:
            text = f"{cur}{rng.choice(['', ' '])}{text}" if rng.random() < 0.5 else f"{text} {cur}"
        if rng.random() < 0.2:
            text += "%"
        if x < 0 or rng.random() < 0.2:
            text = f"({text})" if rng.random() < 0.5 else rng.choice("-+") + text
        if rng.random() < 0.3:  # mangle: insert, drop or double a character
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(MARKS) + text[i + rng.choice([0, 1]) :]
        yield rng.choice(["", " ", "\t", "\u00a0"]) + text + rng.choice(["", " ", "\n"])


SPECIAL_NUMBERS = [
    "inf", "-Infinity", "(inf)", "INF%", "infinity", "infin", "nan", "NaN", "", " NA ", "-",
    "None", "1e400", "-1e400", "1e-400", "123456789012345", "1234567890123456", "007", ".5",
    "5.", ".", "1,234", "1,2345", "1,234,567.5", "0,123", "12,34", "١٢٣", "1_000", "0x10",
    "--5", "+-5", "((5))", "5)", "(5", "$-5", "-$5", "$5$", "5 %", "  ", "\u00a05\u00a0",
    10**400, -(10**400), 2**63 + 1, 2**70, True, False, 0, -0.0, math.inf, -math.inf,
    math.nan, np.float64(2.5), np.float32(2.5), np.int64(3), [1], None,
]  # fmt: skip


@pytest.mark.parametrize("k", range(len(FORMATS_OF_NUMBERS)))
def test_numbers_in_every_format_read_as_python_reads_them(k):
    spec = FORMATS_OF_NUMBERS[k]
    schema = schema_of(spec)
    rng = random.Random(k)
    values = list(number_texts(spec, rng, 1500)) + SPECIAL_NUMBERS
    read = sum(agree(schema, record(num=v)) for v in values)
    assert read > len(values) // 3  # most are read in C, not left to Python


# -- categories


def test_levels_of_every_type_read_as_python_reads_them():
    schema = schema_of()
    values = [
        *LEVELS, 4, 4.0, "4.0", 1, True, False, 0, "True", "false", 2.5, np.int64(4),
        np.float64(4.0), "unseen", "", "NA", 7, -0.0, math.nan, None, 2**80, "007", "7.0",
        (1, 2), [1], {"a": 1}, b"a", "zürich", "Zürich",
    ]  # fmt: skip
    read = sum(agree(schema, record(cat=v)) for v in values)
    assert read >= len(LEVELS) + 5


# -- dates


def _python_unix_us(seconds):
    d = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return (d - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def test_unix_seconds_round_to_the_microsecond_as_timedelta_does():
    rng = random.Random(0)
    values = [rng.uniform(-6e10, 2.5e11) for _ in range(3000)]
    values += [
        rng.randrange(-(10**10), 10**10) / 10 ** rng.choice([3, 6, 7, 9]) for _ in range(3000)
    ]
    values += [k + 0.5e-6 for k in range(-5, 5)] + [1.5e-6, 2.5e-6, -2.5e-6, 1e-7, 0.0, -0.0]
    for x in values:
        status, us = records._records.unix_us(x)
        assert status == 0 and us == _python_unix_us(x), x
    for x in (1e12, -1e12, math.inf, math.nan, 2.6e11):
        assert records._records.unix_us(x)[0] == 2


def _times(rng, n):
    for _ in range(n):
        year = rng.choice([1970, 2001, 2024, 1900, 1950, 2068, 2069, 1, 9999, 1685, 2255, 2300])
        d = datetime(year, 1, 1) + timedelta(days=rng.randrange(365), seconds=rng.randrange(86400))
        yield d.replace(microsecond=rng.choice([0, 0, 250000, 123456]))


def date_texts(layout, rng, n):
    """Texts of ``layout``, some zoned or mangled; Unix times as numbers and text."""
    for d in _times(rng, n):
        if layout in (UNIX_SECONDS, UNIX_MILLISECONDS):
            x = (d - datetime(1970, 1, 1)).total_seconds()
            x = x * 1000 if layout == UNIX_MILLISECONDS else x
            yield rng.choice([x, int(x), str(x), str(int(x)), f" {int(x)} ", f"{x:.3e}"])
            continue
        if layout == ISO:
            text = d.isoformat(sep=rng.choice("T "), timespec=rng.choice(["minutes", "auto"]))
            text = text[:10] if rng.random() < 0.2 else text
            if rng.random() < 0.4:
                text += rng.choice(["Z", "z", "+05:30", "-08:00", "+00:00", "+0530", "+24:00"])
        else:
            text = d.strftime(layout)
            if rng.random() < 0.3:  # single digits, other cases
                text = text.replace("/0", "/").replace(" 0", " ").lower()
        if rng.random() < 0.15:
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(["", " ", "0", "1", "/", ":", "-", "x"]) + text[i + 1 :]
        yield rng.choice(["", " ", "\u2003"]) + text + rng.choice(["", " "])


ODD_DATES = [
    None, math.nan, "", "NA", " nan ", "-", "2020-02-30", "2020-13-01", "0000-01-01",
    "2019-02-29", "2020-02-29", "2020-01-01T24:00", "2020-01-01T10:00:60", "02/30/2020",
    "13/13/2020", "1e400", "inf", "nan", "1_000", "1__0", "١٢٣", True, 1.5e9, 10**30, -(10**30),
    "2020-01-01T10:00:00.5", "2020-01-01T10:00:00.1234567", "20200101", datetime(2020, 1, 1),
    np.datetime64("2020-01-01"), "Feb 28 1997", "28-feb-97", "ſep 1 2020", "Sep  1 2020",
]  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dates_in_every_layout_read_as_python_reads_them(layout):
    rng = random.Random(LAYOUTS.index(layout))
    values = list(date_texts(layout, rng, 120)) + ODD_DATES
    read = 0
    for tz in ("naive", "aware", "any"):
        schema = schema_of(layout=layout, tz=tz)
        read += sum(agree(schema, record(d=v)) for v in values)
    assert read > len(values) // 2  # most in the zone they were written for


# -- records


def test_keys_absent_unknown_and_dropped_are_left_to_python_or_read():
    schema = schema_of(number_format(currency="$"))
    assert agree(schema, record(id=17))  # a column dropped at fit: no warning, read in C
    assert not agree(schema, record(idd=17))  # a misspelt key: Python warns
    assert not agree(schema, {"num": 1.0, "cat": "a"})  # an absent date: Python refuses
    assert agree(schema, {"num": 1.0, "cat": "a"}, allow_missing=True)
    assert agree(schema, {}, allow_missing=True)
    assert not agree(schema, {"cat": "a", "d": None})
    assert not agree(schema, record(num="abc"))  # a stray: Python warns


def test_encode_records_reads_each_record_as_encode_record(recwarn):
    schema = schema_of(number_format(currency="$"), layout="%m/%d/%Y", tz="naive")
    rows = [record(num="$1,234", d="01/02/2020"), record(num="abc"), record(cat=4, d=None)]
    got = schema.encode_records(rows)
    assert len(recwarn) == 1 and "abc" in str(recwarn[0].message)
    for i, r in enumerate(rows):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert got[i].tobytes() == records.read_record(schema, r).tobytes()
    with pytest.raises(Exception, match="lacks"):
        schema.encode_records([rows[0], {"num": 1.0}])


def test_score_record_and_score_records_read_through_the_compiled_reader():
    from tabdistill import make_fraud
    from tabdistill.data import TabularEncoder, split_target
    from tabdistill.distill.context import make_student
    from tabdistill.distill.students import compile_student

    X, y = split_target(make_fraud(1_500, fraud_rate=0.1, random_state=3), "is_fraud")
    enc = TabularEncoder().fit(X)
    student = make_student("lightgbm", {"n_estimators": 20}, categorical_mask=enc.categorical_mask_)
    runtime = compile_student(student.fit(enc.transform(X), y.to_numpy()), enc.schema_)
    rows = X.head(200).astype(object).to_dict(orient="records")
    rows[5]["country"] = "never seen"
    reader = records.compiled_reader(runtime.schema)
    assert all(reader(r, False) is not None for r in rows)
    one = np.array([runtime.score_record(r) for r in rows])
    python = np.array([runtime.score_one(records.read_record(runtime.schema, r)) for r in rows])
    assert one.tobytes() == python.tobytes() == runtime.score_records(rows).tobytes()
    scores, names, values = runtime.score_records(rows[:3], reasons=2)
    assert names.shape == (3, 2) and scores.tobytes() == one[:3].tobytes()


def test_a_row_the_caller_holds_is_never_written_again():
    schema = schema_of()
    reader = records.compiled_reader(schema)
    first = reader(record(num=1.0), False)
    kept = first.copy()
    view = reader(record(num=2.0), False)[:1]  # a view holds its row
    third = reader(record(num=3.0), False)
    assert first.tobytes() == kept.tobytes() and view[0] == 2.0 and third[0] == 3.0
    first.flags.writeable = False  # made read-only, then dropped: a new row next time
    del first
    assert reader(record(num=4.0), False)[0] == 4.0
