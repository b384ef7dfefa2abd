"""Synthetic rows around the training data, for the teacher to label.

A student fit on the teacher's labels for the training rows alone sees the
teacher's function only where data already is; synthetic rows near the data
show it more of that function (Bucilă, Caruana & Niculescu-Mizil, "Model
Compression", KDD 2006).

Every augmenter works on the encoded matrix of
:class:`tabdistill.data.encoder.TabularEncoder` and shares one interface,
:meth:`Augmenter.sample`, which picks the *seed* rows to perturb (with optional
rare-class emphasis), perturbs them, and makes the result valid: categorical
codes are known levels, integer columns stay whole, values stay within the
range seen at fit, NaN stays where the seed or its neighbour had it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors

from .linear import LinearDesign

#: Rows MUNGE searches neighbours for at a time.
BLOCK_ROWS = 50_000
#: Rows an augmenter makes at a time when it has a deadline.
DEADLINE_BLOCK_ROWS = 5_000


@dataclass(frozen=True)
class FeatureSpec:
    """What an augmenter must know of the encoded columns to keep rows valid."""

    categorical_mask: np.ndarray
    integer_mask: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def from_encoder(cls, encoder) -> FeatureSpec:
        """The spec of a fitted :class:`~tabdistill.data.encoder.TabularEncoder`."""
        return cls(encoder.categorical_mask_, encoder.integer_mask_, encoder.lower_, encoder.upper_)


def class_shares(y, n_classes: int, floor: float) -> np.ndarray:
    """Shares of synthetic rows seeded from each class: at least ``floor`` each.

    A class whose share of the rows is under ``floor`` is raised to it; the
    other classes give up the difference in proportion to their own shares, so
    the result leans towards balance without upending the class mix.
    """
    prior = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes) / len(y)
    if not 0 <= floor <= 1 / n_classes:
        raise ValueError(f"a share of at least {floor} for each of {n_classes} classes is > 1.")
    low = prior < floor
    share = np.where(low, floor, prior)
    rest = prior[~low].sum()
    if rest > 0:
        share[~low] = prior[~low] * (1 - floor * low.sum()) / rest
    return share


def seed_indices(
    n_rows, n_source, y=None, positive_share=None, rng=None, shares=None
) -> np.ndarray:
    """Indices (into ``n_source`` rows) of the rows each synthetic row starts from.

    Without ``positive_share`` the seeds cycle through the rows in order, pass
    after pass, as in MUNGE. With it, that share of seeds cycles through the
    positive rows (``y == 1``) and the rest through the negatives, so a 1%
    fraud dataset can yield, say, 20% of synthetic rows around fraud. With
    ``shares`` (one a class, for class codes ``y``; see :func:`class_shares`),
    each class seeds its share of the rows, cycling through its own rows.
    """
    if shares is not None:
        return _seeds_by_class(n_rows, np.asarray(y), np.asarray(shares, float), rng)
    if positive_share is None:
        return np.resize(np.arange(n_source), n_rows)
    if y is None:
        raise ValueError("positive_share needs the labels y.")
    if not 0 <= positive_share <= 1:
        raise ValueError(f"positive_share must be in [0, 1], got {positive_share}.")
    rng = np.random.default_rng(rng)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = int(round(n_rows * positive_share)) if len(pos) else 0
    if not len(neg):
        n_pos = n_rows
    idx = np.concatenate(
        [np.resize(rng.permutation(pos), n_pos), np.resize(rng.permutation(neg), n_rows - n_pos)]
    )
    return idx[rng.permutation(n_rows)]


def _seeds_by_class(n_rows, y, shares, rng):
    rng = np.random.default_rng(rng)
    rows = [np.flatnonzero(y == k) for k in range(len(shares))]
    shares = np.where([len(r) > 0 for r in rows], shares, 0.0)
    counts = np.floor(n_rows * shares / shares.sum()).astype(np.int64)
    counts[np.argmax(shares)] += n_rows - counts.sum()  # rounding: to the largest class
    idx = np.concatenate([np.resize(rng.permutation(r), c) for r, c in zip(rows, counts)])
    return idx[rng.permutation(n_rows)].astype(np.int64)


def make_valid(Z, spec: FeatureSpec) -> np.ndarray:
    """Snap codes and integers to whole numbers and clip every column to its fitted range."""
    whole = spec.categorical_mask | spec.integer_mask
    Z[:, whole] = np.round(Z[:, whole])
    return np.clip(Z, spec.lower, spec.upper)  # NaN passes through np.clip unchanged


class Augmenter(BaseEstimator):
    """Base class: subclasses implement ``_perturb(Z, seeds, spec, rng, state)``, and
    ``_prepare(Z, spec, rng)`` for what every block of rows shares (its result is ``state``)."""

    def sample(
        self,
        Z,
        n_rows,
        spec: FeatureSpec,
        *,
        y=None,
        positive_share=None,
        shares=None,
        random_state=None,
        deadline=None,
        bar=None,
    ):
        """Generate ``n_rows`` synthetic rows from ``Z``.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_features)
            Encoded training rows.
        n_rows : int
            Rows to generate.
        spec : FeatureSpec
            Column kinds and ranges.
        y : ndarray of 0/1 or of class codes, default=None
            Labels, needed only for ``positive_share`` or ``shares``.
        positive_share : float, default=None
            Share of synthetic rows seeded from positive rows (rare-class emphasis).
        shares : ndarray of shape (n_classes,), default=None
            Share of synthetic rows seeded from each class (K classes; see
            :func:`class_shares`).
        random_state : int, default=None
            Same seed, same rows.
        deadline : float, default=None
            A ``time.perf_counter()`` value: rows are then made in blocks of
            :data:`BLOCK_ROWS` and no block is started after it (fewer rows
            come back; the first block always does).
        bar : object with ``update(n)``, default=None
            Progress, in rows.

        Returns
        -------
        rows : ndarray of shape (n_rows, n_features)
        seeds : ndarray of shape (n_rows,)
            The training row each synthetic row came from.
        """
        Z = np.asarray(Z, dtype=np.float64)
        rng = np.random.default_rng(random_state)
        y = None if y is None else np.asarray(y)
        seeds = seed_indices(int(n_rows), Z.shape[0], y, positive_share, rng, shares)
        if n_rows == 0:
            return Z[:0].copy(), seeds
        state = self._prepare(Z, spec, rng)
        if deadline is None:
            rows = make_valid(self._perturb(Z, seeds, spec, rng, state), spec)
            if bar is not None:
                bar.update(len(rows))
            return rows, seeds
        blocks = []
        for start in range(0, len(seeds), DEADLINE_BLOCK_ROWS):
            if blocks and time.perf_counter() > deadline:
                break
            block = seeds[start : start + DEADLINE_BLOCK_ROWS]
            blocks.append(make_valid(self._perturb(Z, block, spec, rng, state), spec))
            if bar is not None:
                bar.update(len(block))
        rows = np.vstack(blocks)
        return rows, seeds[: len(rows)]

    def _prepare(self, Z, spec, rng):
        """What every block of rows needs (MUNGE: the neighbour index); None by default."""
        return None

    def _perturb(self, Z, seeds, spec, rng, state):  # pragma: no cover - abstract
        raise NotImplementedError


class MungeAugmenter(Augmenter):
    """MUNGE (Bucilă et al., 2006): mix each row with its nearest neighbour.

    For each seed row ``e`` and its nearest neighbour ``e'`` (numeric columns
    standardized, categorical columns compared by Hamming distance), each
    attribute is, with probability ``p``: swapped to the neighbour's level if
    categorical, or drawn from a normal centred on the neighbour's value with
    sd ``|e - e'| / s`` if numeric. ``p=0`` returns the seed rows unchanged.

    Parameters
    ----------
    p : float, default=0.5
        Probability of perturbing each attribute.
    s : float, default=10.0
        Local variance parameter: larger keeps values closer to the neighbour's.
    max_neighbor_pool : int, default=20_000
        Neighbours are searched among at most this many rows (a random subset
        on larger data) to bound the cost on large datasets.
    """

    def __init__(self, p=0.5, s=10.0, max_neighbor_pool=20_000):
        self.p = p
        self.s = s
        self.max_neighbor_pool = max_neighbor_pool

    def _prepare(self, Z, spec, rng):
        """The neighbour index: the one-hot design of a pool of rows (all of them, or a
        random ``max_neighbor_pool``), with a nearest-neighbour search over it."""
        if not 0 <= self.p <= 1 or self.s <= 0:
            raise ValueError(f"MUNGE needs 0 <= p <= 1 and s > 0, got p={self.p}, s={self.s}.")
        design = LinearDesign(categorical_mask=spec.categorical_mask).fit(Z)
        scale = np.ones(design.n_output_)
        for j in np.flatnonzero(spec.categorical_mask):
            # scale one-hot blocks so two different levels are at squared distance 1 (Hamming)
            start = design.offsets_[j]
            scale[start : start + design.n_levels_[j]] = np.sqrt(0.5)
        pool = np.arange(Z.shape[0])
        if len(pool) > self.max_neighbor_pool:
            pool = np.sort(rng.choice(pool, self.max_neighbor_pool, replace=False))
        nn = NearestNeighbors(n_neighbors=min(2, len(pool))).fit(design.transform(Z[pool]) * scale)
        return design, scale, pool, nn

    def _perturb(self, Z, seeds, spec, rng, state):
        unique, inverse = np.unique(seeds, return_inverse=True)
        neighbour = self._neighbours(Z, unique, state)[inverse]
        out = Z[seeds].copy()
        other = Z[neighbour]
        hit = rng.random(out.shape) < self.p
        cat = np.broadcast_to(spec.categorical_mask, out.shape)
        swap = hit & (cat | np.isnan(out) | np.isnan(other))
        out[swap] = other[swap]
        draw = hit & ~swap
        sd = np.abs(out - other) / self.s
        out[draw] = rng.normal(other[draw], sd[draw])
        return out

    @staticmethod
    def _neighbours(Z, rows, state):
        """Index in ``Z`` of the nearest other row of each of ``rows``, searched block by
        block (memory stays bounded by the pool and a block, not the whole table)."""
        design, scale, pool, nn = state
        found = np.concatenate(
            [
                pool[nn.kneighbors(design.transform(Z[block]) * scale, return_distance=False)]
                for block in np.array_split(rows, max(1, -(-len(rows) // BLOCK_ROWS)))
            ]
        )
        first_is_self = found[:, 0] == rows
        return np.where(first_is_self, found[:, -1], found[:, 0])


class MarginalAugmenter(Augmenter):
    """Replace each cell, with probability ``p``, by a value drawn from its column.

    A bootstrap perturbation: each replacement comes from a random training
    row of the same column, so it follows the column's marginal distribution,
    NaN rate included.

    Parameters
    ----------
    p : float, default=0.3
    """

    def __init__(self, p=0.3):
        self.p = p

    def _perturb(self, Z, seeds, spec, rng, state):
        out = Z[seeds].copy()
        hit = rng.random(out.shape) < self.p
        donors = rng.integers(0, Z.shape[0], size=out.shape)
        cols = np.broadcast_to(np.arange(Z.shape[1]), out.shape)
        out[hit] = Z[donors[hit], cols[hit]]
        return out


class GaussianAugmenter(Augmenter):
    """Add Gaussian noise to numeric cells, scaled to each column's spread.

    Parameters
    ----------
    scale : float, default=0.1
        Noise sd as a fraction of the column's standard deviation.
    """

    def __init__(self, scale=0.1):
        self.scale = scale

    def _perturb(self, Z, seeds, spec, rng, state):
        out = Z[seeds].copy()
        sd = np.nan_to_num(np.nanstd(Z, axis=0)) * self.scale
        noise = rng.normal(0.0, 1.0, out.shape) * sd
        noise[:, spec.categorical_mask] = 0.0
        return out + noise  # NaN + noise stays NaN


AUGMENTERS = {"munge": MungeAugmenter, "marginal": MarginalAugmenter, "gaussian": GaussianAugmenter}


def make_augmenter(augmenter) -> Augmenter:
    """An augmenter from a name in :data:`AUGMENTERS` or an :class:`Augmenter` instance."""
    if isinstance(augmenter, Augmenter):
        return augmenter
    if augmenter not in AUGMENTERS:
        raise ValueError(f"unknown augmenter {augmenter!r}; choose one of {sorted(AUGMENTERS)}.")
    return AUGMENTERS[augmenter]()
