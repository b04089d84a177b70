"""Interval arithmetic for the character, unitizing and span levels.

Nothing here allocates one cell per character: the work is proportional to
the number of segment boundaries. A *sweep* sorts the start (+1) and end (-1)
events of a set of intervals by position and takes running sums, which gives,
for every stretch between two consecutive boundaries (an *elementary
interval*), how many coders cover it and, as a bit mask, which ones. Sums of
``length x f(count)`` over elementary intervals are exactly the sums of
``f(count)`` over the characters they contain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ONE = np.uint64(1)


def merge_overlaps(
    group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge overlapping intervals within each group.

    One coder's overlapping segments of one code count once: they become a
    single unit spanning their union. Touching intervals (``end == start``)
    stay separate units, since a coder who marks two adjacent spans means two
    units (coverage is the same either way).

    >>> g, s, e = merge_overlaps(np.array([0, 0, 0, 1]), np.array([0, 2, 5, 0]),
    ...                          np.array([3, 4, 6, 2]))
    >>> list(zip(g.tolist(), s.tolist(), e.tolist()))
    [(0, 0, 4), (0, 5, 6), (1, 0, 2)]
    """
    if group.size == 0:
        return group, start, end
    big = np.int64(end.max()) + 1
    key = group * big + start
    if (key[1:] >= key[:-1]).all():  # already ordered: skip the sort
        g, s, e = group, start, end
    else:
        order = np.argsort(key, kind="stable")  # fast on a few sorted runs
        g, s, e = group[order], start[order], end[order]
    # Offsetting by group keeps the running maximum from leaking across groups.
    runmax = np.maximum.accumulate(e + g * big)
    new = np.ones(g.size, dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (s[1:] + g[1:] * big >= runmax[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:], g.size) - 1
    return g[first], s[first], runmax[last] - g[first] * big


@dataclass(frozen=True)
class Sweep:
    """Elementary intervals of a sweep, in (group, position) order.

    ``count`` is the number of intervals covering each elementary interval,
    ``mask`` (when members were given) the bit mask of their members.
    Zero-length entries (several events at one position) have ``length`` 0
    and a ``mask`` of 0, so they never count as coverage.
    """

    group: np.ndarray
    pos: np.ndarray
    length: np.ndarray
    count: np.ndarray
    mask: np.ndarray | None

    def moments(self, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """Per group ``sum length * count`` and ``sum length * count^2``."""
        w = self.length * self.count
        t1 = np.bincount(self.group, weights=w, minlength=n_groups)
        t2 = np.bincount(self.group, weights=w * self.count, minlength=n_groups)
        return t1, t2

    def pair_overlaps(self, pairs: np.ndarray, n_groups: int) -> np.ndarray:
        """Per group and member pair ``(a, b)``: the length covered by both.

        Shape ``(n_groups, len(pairs))``.
        """
        out = np.zeros((n_groups, len(pairs)))
        if self.mask is None or not len(pairs):
            return out
        keep = (self.count >= 2) & (self.length > 0)
        g, ln, m = self.group[keep], self.length[keep], self.mask[keep]
        # One pass per first member over the intervals it covers, not one
        # pass per pair over all intervals.
        for a in np.unique(pairs[:, 0]):
            has_a = ((m >> np.uint64(a)) & ONE).astype(bool)
            ga, la, ma = g[has_a], ln[has_a], m[has_a]
            for p in np.flatnonzero(pairs[:, 0] == a):
                both = ((ma >> np.uint64(pairs[p, 1])) & ONE).astype(bool)
                out[:, p] = np.bincount(ga[both], weights=la[both], minlength=n_groups)
        return out


def sweep(
    group: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    member: np.ndarray | None = None,
) -> Sweep:
    """Sweep intervals that do not overlap within (group, member).

    ``member`` (for example the coder, below 64) adds the bit mask of the
    members covering each elementary interval.
    """
    n = group.size
    big = np.int64(end.max(initial=0)) + 1
    ks = group * big + start
    ke = group * big + end
    # Starts and ends are sorted apart and then merged: input ordered by
    # (group, start) needs no sort for the starts, its ends are nearly
    # ordered, and a stable sort of two ordered runs is a linear merge.
    sorted_starts = (ks[1:] >= ks[:-1]).all()
    o_start = np.arange(n) if sorted_starts else np.argsort(ks, kind="stable")
    o_end = np.argsort(ke, kind="stable")
    merged = np.argsort(np.concatenate([ks[o_start], ke[o_end]]), kind="stable")
    order = np.concatenate([o_start, n + o_end])[merged]
    g2 = np.concatenate([group, group])[order]
    pos = np.concatenate([start, end])[order]
    delta = np.concatenate([np.ones(n, np.int64), -np.ones(n, np.int64)])
    count = np.cumsum(delta[order])
    length = np.zeros(2 * n, dtype=np.int64)
    if n:
        same = g2[1:] == g2[:-1]
        length[:-1] = np.where(same, pos[1:] - pos[:-1], 0)
    mask = None
    if member is not None:
        bits = ONE << member.astype(np.uint64)
        # Unsigned wrap-around makes "+bit then -bit" cancel exactly.
        mdelta = np.concatenate([bits, np.uint64(0) - bits])[order]
        mask = np.cumsum(mdelta, dtype=np.uint64)
        mask[length == 0] = 0
    return Sweep(g2, pos, length.astype(float), count.astype(float), mask)


def covering_masks(
    sw: Sweep, group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """For each interval ``[start, end)`` of ``group``, the OR of the masks of
    the elementary intervals it spans: which members overlap it anywhere.

    The intervals must be among those swept (their boundaries are events).
    """
    if group.size == 0 or sw.mask is None:
        return np.zeros(group.size, dtype=np.uint64)
    big = np.int64(max(sw.pos.max(initial=0), end.max(initial=0))) + 1
    key = sw.group * big + sw.pos
    lo = np.searchsorted(key, group * big + start, side="left")
    hi = np.searchsorted(key, group * big + end, side="left")
    # reduceat over interleaved [lo, hi) bounds; a sentinel keeps hi in range.
    masks = np.append(sw.mask, np.uint64(0))
    idx = np.empty(2 * group.size, dtype=np.int64)
    idx[0::2] = lo
    idx[1::2] = hi
    return np.bitwise_or.reduceat(masks, idx)[0::2]
