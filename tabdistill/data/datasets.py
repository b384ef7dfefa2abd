"""Datasets to try tabdistill on: the bundled real CSVs, synthetic fraud and loan generators."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataError
from .io import read_csv, split_target

#: Bundled real datasets: name -> (file name, target column). See ``data/README.md``.
BUNDLED = {
    "credit_default": ("credit_default.csv.gz", "default"),
    "adult": ("adult.csv.gz", "income"),
    "bank_marketing": ("bank_marketing.csv.gz", "y"),
}


def data_dir() -> Path:
    """Folder of the bundled CSVs: ``$TABDISTILL_DATA`` or ``data/`` of the source checkout."""
    env = os.environ.get("TABDISTILL_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def load_dataset(name: str, *, as_frame: bool = False):
    """Load a bundled real dataset.

    Parameters
    ----------
    name : {"credit_default", "adult", "bank_marketing"}
    as_frame : bool, default=False
        Return the whole DataFrame (target included) instead of ``(X, y)``.

    Returns
    -------
    (X, y) : (DataFrame, Series), or DataFrame when ``as_frame``.
    """
    if name not in BUNDLED:
        raise DataError(f"unknown dataset '{name}'; bundled ones are {sorted(BUNDLED)}.")
    file, target = BUNDLED[name]
    path = data_dir() / file
    if not path.exists():
        raise DataError(
            f"bundled dataset file '{path}' not found: the CSVs ship with the source checkout "
            "(data/). Set TABDISTILL_DATA to the folder holding them."
        )
    frame = read_csv(path)
    return frame if as_frame else split_target(frame, target)


_MCC = [
    "grocery",
    "fuel",
    "restaurant",
    "online_retail",
    "electronics",
    "travel",
    "gambling",
    "jewelry",
    "pharmacy",
    "gift_cards",
]
_MCC_RISK = np.array([-0.6, -0.4, -0.3, 0.4, 0.8, 0.5, 1.2, 1.0, -0.5, 1.4])
_COUNTRIES = ["FR", "DE", "ES", "IT", "GB", "US", "NL", "BR", "NG", "RU", "IN", "CN"]
_COUNTRY_P = np.array([0.40, 0.15, 0.10, 0.08, 0.07, 0.06, 0.05, 0.03, 0.02, 0.02, 0.01, 0.01])
_DEVICES = ["mobile_app", "web_desktop", "web_mobile", "pos_terminal", "atm"]
_DEVICE_P = np.array([0.35, 0.2, 0.15, 0.25, 0.05])


#: Columns of the basic table (the target aside); ``n_features`` adds to them.
BASE_FEATURES = 11
#: Fraud types of ``make_fraud(fraud_type=True)``, besides "none".
FRAUD_TYPES = ("account_takeover", "card_not_present", "friendly_fraud")


def make_fraud(
    n_rows: int = 100_000,
    fraud_rate: float = 0.01,
    random_state: int = 0,
    missing_rate: float = 0.03,
    n_features: int = BASE_FEATURES,
    fraud_type: bool = False,
) -> pd.DataFrame:
    """Generate fraud-shaped card transactions, deterministically.

    Fraud depends on the features through interactions a linear model misses
    (night-time x foreign, new card x high velocity, risky merchant x amount
    spike), so there is something for a large ensemble to learn and for a small
    student to try to keep. With ``fraud_type``, a multiclass target: each
    fraud is an account takeover (new card with a burst of transactions,
    foreign at night), card-not-present fraud (online devices, online
    merchants) or friendly fraud (an old domestic card), drawn at random with
    odds that depend on those features.

    Parameters
    ----------
    n_rows : int, default=100_000
    fraud_rate : float, default=0.01
        Expected share of fraud rows, in (0, 0.5].
    random_state : int, default=0
        Same seed, same rows.
    missing_rate : float, default=0.03
        Share of missing values in the ``device`` and ``distance_km`` columns.
    n_features : int, default=11
        Feature columns. Beyond the 11 basic ones, the extra columns look like
        the engineered features of a card-fraud table (see
        :func:`_wide_features`): noisy, redundant views of a few hidden
        behaviour factors that shift the fraud odds non-linearly, categorical
        codes (one with 1,000 levels), pure noise, and blocks of columns
        missing together. The basic columns are the same at any width (the
        labels are not: the extra columns carry signal).
    fraud_type : bool, default=False
        Replace the 0/1 target ``is_fraud`` by ``fraud_type``: ``"none"`` or
        one of :data:`FRAUD_TYPES` (the same rows are fraud as with the 0/1 target).

    Returns
    -------
    pandas.DataFrame
        Columns ``amount, merchant_category, hour, country, device,
        card_age_days, txn_count_1h, txn_count_24h, amount_to_avg,
        distance_km, is_foreign``, the extra columns (``v001``... numeric,
        ``cat01``... categorical) and ``is_fraud`` (the target, 0/1), or ``fraud_type``.
    """
    if not 0 < fraud_rate <= 0.5:
        raise DataError(f"fraud_rate must be in (0, 0.5], got {fraud_rate}.")
    if n_rows < 10:
        raise DataError(f"n_rows must be at least 10, got {n_rows}.")
    if isinstance(n_features, bool) or not isinstance(n_features, int | np.integer):
        raise DataError(f"n_features must be an integer, got {n_features!r}.")
    if n_features < BASE_FEATURES:
        raise DataError(f"n_features must be at least {BASE_FEATURES}, got {n_features}.")
    rng = np.random.default_rng(random_state)
    n = int(n_rows)
    mcc = rng.integers(0, len(_MCC), n)
    country = rng.choice(len(_COUNTRIES), n, p=_COUNTRY_P)
    device = rng.choice(len(_DEVICES), n, p=_DEVICE_P)
    home = rng.choice(len(_COUNTRIES), n, p=_COUNTRY_P)
    foreign = (country != home).astype(np.int8)
    hour = (rng.normal(14, 5, n) % 24).astype(np.int64)
    card_age = np.round(rng.gamma(1.5, 300, n)).astype(np.int64)
    count_24h = rng.poisson(3, n)
    count_1h = np.minimum(rng.poisson(0.4, n), count_24h)
    amount = np.round(np.exp(rng.normal(3.4, 1.1, n)) * (1 + 2 * (mcc == 5)), 2)
    ratio = np.round(amount / np.exp(rng.normal(3.4, 0.6, n)), 3)
    distance = np.round(rng.exponential(15, n) + foreign * rng.exponential(800, n), 1)

    night = ((hour <= 5) | (hour >= 23)).astype(float)
    new_card = (card_age < 30).astype(float)
    spike = np.log1p(ratio)
    score = (
        _MCC_RISK[mcc]
        + 1.2 * night * foreign
        + 1.5 * new_card * (count_1h >= 2)
        + 0.8 * spike * (_MCC_RISK[mcc] > 0.5)
        + 0.35 * count_1h
        + 0.6 * (device == 2)
        - 0.4 * (device == 3)
        + 0.4 * np.log1p(distance) / 3
        + rng.normal(0, 0.5, n)
    )
    extra, extra_score = _wide_features(n, n_features - BASE_FEATURES, random_state)
    score = score + extra_score
    intercept = _intercept_for_rate(score, fraud_rate)
    fraud = (rng.random(n) < 1 / (1 + np.exp(-(score + intercept)))).astype(np.int8)

    frame = pd.DataFrame(
        {
            "amount": amount,
            "merchant_category": pd.Categorical.from_codes(mcc, _MCC),
            "hour": hour,
            "country": np.array(_COUNTRIES, dtype=object)[country],
            "device": np.array(_DEVICES, dtype=object)[device],
            "card_age_days": card_age,
            "txn_count_1h": count_1h,
            "txn_count_24h": count_24h,
            "amount_to_avg": ratio,
            "distance_km": distance,
            "is_foreign": foreign,
            **extra,
            "is_fraud": fraud,
        }
    )
    frame.loc[rng.random(n) < missing_rate, "device"] = np.nan
    frame.loc[rng.random(n) < missing_rate, "distance_km"] = np.nan
    if fraud_type:
        odds = np.column_stack(
            [
                2.0 * new_card * (count_1h >= 2) + 1.5 * night * foreign + 0.5 * (count_24h > 5),
                1.5 * np.isin(device, (0, 1, 2)) + 1.0 * np.isin(mcc, (3, 4, 5, 9)),
                0.8 * (card_age > 365) + 0.6 * (1 - foreign) + 0.4 * np.isin(mcc, (0, 2, 8)),
            ]
        )
        kind = np.argmax(odds + rng.gumbel(size=odds.shape), axis=1)  # drawn by their odds
        labels = np.where(fraud == 1, np.array(FRAUD_TYPES, dtype=object)[kind], "none")
        frame = frame.drop(columns="is_fraud").assign(fraud_type=labels)
    return frame


#: Hidden behaviour factors the wide columns are noisy views of.
_N_FACTORS = 8
#: Columns per block of numeric columns that go missing together, and the blocks' missing rates.
_BLOCK = 8
_BLOCK_MISSING = (0.0, 0.05, 0.2, 0.5, 0.8)


def _wide_features(n, n_extra, random_state):
    """``n_extra`` engineered-looking columns and their contribution to the fraud log-odds.

    A separate random stream (seeded by ``random_state``) leaves the basic
    columns unchanged. Of the extra columns, about 15% are categorical (the
    first with 1,000 levels, like a card BIN; level effects on the odds for
    half of them), about half numeric views of the hidden factors (a random
    mix of them plus noise, some log-normal, some rounded to counts), the rest
    numeric noise. The factors enter the log-odds through thresholds, a
    product and a sine, which trees find and a linear model cannot; since each
    column sees them through noise, many columns carry a little of the signal
    each. Numeric columns go missing in blocks of 8 (rates 0-80%), and the
    most-missing blocks go missing more often in fraud-prone rows.
    """
    if n_extra == 0:
        return {}, 0.0
    rng = np.random.default_rng([int(random_state), 14])
    factors = rng.normal(size=(n, _N_FACTORS))
    f = factors
    score = (
        1.5 * (f[:, 0] > 1.0)
        + 1.2 * np.tanh(f[:, 1] * f[:, 2])
        + 1.0 * np.sin(1.5 * f[:, 3])
        - 1.2 * (f[:, 4] < -1.2)
        + 0.4 * np.maximum(f[:, 5], 0) ** 2
        + 0.8 * f[:, 6] * (f[:, 7] > 0)
        + 1.5 * ((f[:, 0] > 0.3) & (f[:, 3] < 0) & (f[:, 5] > 0.3))
    )
    n_cat = max(1, int(round(0.15 * n_extra)))
    n_view = int(round(0.5 * (n_extra - n_cat)))
    n_noise = n_extra - n_cat - n_view
    numeric = []
    for j in range(n_view):
        # the first view of each factor is close to it; later ones mix factors, with more noise
        loading = np.zeros(_N_FACTORS) if j < _N_FACTORS else rng.normal(size=_N_FACTORS)
        loading *= rng.random(_N_FACTORS) < 0.3
        loading[j % _N_FACTORS] += rng.choice([-1.0, 1.0])
        noise = 0.2 if j < _N_FACTORS else rng.uniform(0.3, 1.2)
        col = factors @ loading + rng.normal(0, noise, n)
        numeric.append(_shape_column(col, j, rng))
    for j in range(n_noise):
        numeric.append(_shape_column(rng.normal(size=n), j, rng))
    order = rng.permutation(len(numeric))  # views and noise interleaved, as in real tables
    numeric = [numeric[i] for i in order]
    for start in range(0, len(numeric), _BLOCK):
        rate = _BLOCK_MISSING[(start // _BLOCK) % len(_BLOCK_MISSING)]
        if rate:
            # the fraud-prone rows (high factor 0) miss these blocks a little more often
            tilt = 1.0 + 0.5 * np.tanh(factors[:, 0])
            missing = rng.random(n) < np.minimum(rate * tilt, 0.95)
            for col in numeric[start : start + _BLOCK]:
                col[missing] = np.nan
    out = {f"v{i + 1:03d}": col for i, col in enumerate(numeric)}
    for j in range(n_cat):
        n_levels = 1_000 if j == 0 else int(rng.integers(3, 31))
        weights = rng.dirichlet(np.full(n_levels, 0.5))
        codes = rng.choice(n_levels, n, p=weights)
        if j % 2 == 0:
            score = score + rng.normal(0, 0.6, n_levels)[codes]
        width = len(str(n_levels - 1))
        levels = np.array([f"L{k:0{width}d}" for k in range(n_levels)], dtype=object)
        out[f"cat{j + 1:02d}"] = levels[codes]
    return out, score


def _shape_column(col, j, rng):
    """Make a standard-normal-ish column look like a real feature: amounts, counts, scores."""
    kind = j % 4
    if kind == 1:
        return np.round(np.exp(0.5 * col + rng.normal(3, 0.5)), 2)
    if kind == 2:
        return np.floor(np.maximum(col + 2, 0) * 3).astype(np.float64)
    return np.round(col, 4)


def _intercept_for_rate(score: np.ndarray, rate: float) -> float:
    """The intercept that makes the mean fraud probability equal ``rate`` (bisection)."""
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(score + mid)))) > rate:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


_GRADES = list("ABCDEFG")
_PURPOSES = ["debt_consolidation", "credit_card", "home_improvement", "car", "medical", "other"]


def make_loans(n_rows: int = 5_000, random_state: int = 0, messy: bool = True) -> pd.DataFrame:
    """Generate loan applications, deterministically, written the way exported files write them.

    The target ``default`` depends on the interest rate, the loan-to-income
    ratio, the grade, the net cash flow, the vintage (issue year) and the
    age of the credit history, so a model that loses the amounts or the dates
    loses accuracy. With ``messy`` (the default) the values are text as a
    downloaded loan file has them; without, the same values in their natural
    dtypes (the clean twin to compare against):

    ============  ==========================================  ======================
    column        messy                                       clean
    ============  ==========================================  ======================
    loan_amnt     ``"$60,000.00"``                            float
    annual_inc    ``" $85,000 "`` (surrounding spaces)        float
    int_rate      ``"13.56%"``                                float (percent points)
    net_cashflow  ``"(1,234.50)"`` for negatives              float
    issue_d       ``"28-Feb-97"``                             datetime64
    earliest_cr   ``"Feb 28 1997"``                           datetime64
    last_pymnt    ``"2013-02-28T10:15:00-05:00"`` / ``...Z``  datetime64 (UTC)
    created_at    Unix seconds (integers)                     datetime64 (UTC)
    emp_since     ``"1976"``, a few ``"1976A"``               float (NaN for those)
    grade         ``"A"`` .. ``"G"``                          the same
    purpose       six purposes                                the same
    ============  ==========================================  ======================

    About 2% of the amounts, rates and dates are missing (empty).

    Returns
    -------
    DataFrame
        The columns above and ``default`` (0/1, about 15% ones).
    """
    rng = np.random.default_rng(random_state)
    n = int(n_rows)
    grade = rng.integers(0, len(_GRADES), n)
    rate = np.round(5.5 + 3.2 * grade + rng.normal(0, 1.5, n), 2).clip(5.0, 30.99)
    income = np.round(np.exp(rng.normal(11.0, 0.5, n)), -2)
    amount = np.round(rng.uniform(1_000, 40_000, n) / 25) * 25
    cashflow = np.round(rng.normal(200, 1_500, n), 2)
    issued = pd.Timestamp("1995-01-01") + pd.to_timedelta(rng.integers(0, 21 * 365, n), "D")
    history = issued - pd.to_timedelta(rng.integers(365, 30 * 365, n), "D")
    paid = issued + pd.to_timedelta(rng.integers(30 * 24 * 60, 900 * 24 * 60, n), "min")
    created = issued + pd.to_timedelta(rng.integers(0, 24 * 3600, n), "s")
    year = issued.year.to_numpy()
    emp_since = (year - rng.integers(0, 30, n)).astype(np.float64)
    score = (
        0.18 * (rate - 15)
        + 3.0 * (amount / income - 0.2)
        + 0.35 * (grade - 3)
        - 0.0004 * cashflow
        + 0.08 * (year - 2005)
        - 0.05 * ((issued - history).days.to_numpy() / 365 - 15)
        + rng.normal(0, 0.8, n)
    )
    default = (score > np.quantile(score, 0.85)).astype(np.int64)
    odd = rng.random(n) < 0.003  # years written with a stray letter
    emp_since[odd] = np.nan
    frame = pd.DataFrame(
        {
            "loan_amnt": amount,
            "annual_inc": income,
            "int_rate": rate,
            "net_cashflow": cashflow,
            "issue_d": issued,
            "earliest_cr": history,
            "last_pymnt": paid.tz_localize("UTC"),
            "created_at": created.tz_localize("UTC"),
            "emp_since": emp_since,
            "grade": np.array(_GRADES)[grade],
            "purpose": rng.choice(_PURPOSES, n),
        }
    )
    for col in ("loan_amnt", "int_rate", "issue_d", "last_pymnt"):
        frame.loc[rng.random(n) < 0.02, col] = None
    if messy:
        frame = _messy_loans(frame, odd, rng)
    return frame.assign(default=default)


def _money(value: float, decimals: int = 2) -> str:
    return "" if pd.isna(value) else f"${value:,.{decimals}f}"


def _messy_loans(frame: pd.DataFrame, odd: np.ndarray, rng) -> pd.DataFrame:
    """:func:`make_loans`' clean columns written as text, as a loan file export has them."""
    paid = frame["last_pymnt"]
    offsets = rng.choice(["Z", "-05:00", "+01:00"], len(frame))
    shifted = [
        ""
        if pd.isna(t)
        else (t + pd.Timedelta(hours={"Z": 0, "-05:00": -5, "+01:00": 1}[o])).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        + o
        for t, o in zip(paid, offsets)
    ]
    years = frame["emp_since"].to_numpy()
    return frame.assign(
        loan_amnt=[_money(v) for v in frame["loan_amnt"]],
        annual_inc=[f" {_money(v, 0)} " for v in frame["annual_inc"]],
        int_rate=["" if pd.isna(v) else f"{v:.2f}%" for v in frame["int_rate"]],
        net_cashflow=[f"({-v:,.2f})" if v < 0 else f"{v:,.2f}" for v in frame["net_cashflow"]],
        issue_d=[t.strftime("%d-%b-%y") if pd.notna(t) else "" for t in frame["issue_d"]],
        earliest_cr=frame["earliest_cr"].dt.strftime("%b %d %Y"),
        last_pymnt=shifted,
        created_at=(frame["created_at"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1),
        emp_since=[
            f"{int(y)}A" if o else f"{int(y)}"
            for y, o in zip(np.where(odd, 1970 + np.arange(len(odd)) % 40, years), odd)
        ],
    )
