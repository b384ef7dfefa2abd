"""The flat node table of a tree ensemble, built one node at a time by the compilers."""

from __future__ import annotations

import numpy as np


class TreeBuilder:
    """Accumulates trees into the flat node table the kernels read.

    See :mod:`tabdistill.runtime.kernels` for the layout.
    """

    def __init__(self):
        self.ints, self.values, self.roots = [], [], []
        self.cat_bounds, self.cat_bits = [0], []

    def node(self, feature, flags, value):
        """Append a node (``feature < 0``: a leaf holding ``value``); returns its index."""
        self.ints.append([feature, -1, -1, flags])
        self.values.append(value)
        return len(self.ints) - 1

    def link(self, node, left, right):
        """Point ``node`` at its children; a leaf child is stored as ``~index``."""
        self.ints[node][1] = ~left if self.ints[left][0] < 0 else left
        self.ints[node][2] = ~right if self.ints[right][0] < 0 else right

    def root(self, node):
        """Start a new tree at ``node``."""
        self.roots.append(~node if self.ints[node][0] < 0 else node)

    def categories(self, cats):
        """Store a left-going category set as a bitset; returns its index."""
        words = np.zeros(max(cats) // 32 + 1 if cats else 1, dtype=np.uint32)
        for c in cats:
            words[c >> 5] |= np.uint32(1) << np.uint32(c & 31)
        self.cat_bits.extend(words.tolist())
        self.cat_bounds.append(len(self.cat_bits))
        return len(self.cat_bounds) - 2

    def arrays(self) -> dict:
        """The node table as the arrays a tree :class:`~.model.CompiledModel` holds."""
        return {
            "ints": np.array(self.ints, dtype=np.int32).reshape(-1, 4),
            "values": np.array(self.values, dtype=np.float64),
            "cat_bounds": np.array(self.cat_bounds, dtype=np.int32),
            "cat_bits": np.array(self.cat_bits, dtype=np.uint32),
            "roots": np.array(self.roots, dtype=np.int32),
        }
