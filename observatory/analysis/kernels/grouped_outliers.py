"""Outliers within comparable groups, ranked across all groups by how unusual they are.

Each group (e.g. one questionnaire cell in one unit, compared across countries) is scored alone with
:func:`observatory.analysis.kernels.outliers.score_values` — the same scores, unusualness and flags as
``rank_outliers`` gives — and every group's values are then put in one order by that unusualness (|score|
for the z-scores; for min–max, the distance of the scaled value from the group's median scaled value,
doubled), which is comparable across groups. Ties are ordered by group, then key.

Groups with fewer than ``min_peers`` values are not scored: a median and a spread over one or two
countries say nothing about which of them is unusual. They are counted, not dropped silently.

Built for a year of questionnaires (hundreds of thousands of values): the scores are kept in arrays and
a caller takes the ranked entries it shows with :meth:`GroupedRanking.top`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from observatory.analysis.kernels.outliers import DEFAULT_THRESHOLDS, METHODS, score_values

LOG_TRANSFORM = "log10(1 + x)"
NO_TRANSFORM = "x"
DEFAULT_MIN_PEERS = 3


class Group(NamedTuple):
    """The values of one comparable group: ``values[i]`` belongs to ``keys[i]`` (unique in the group)."""

    keys: Sequence[str]
    values: Sequence[float]  # the figures compared (already normalised if they are to be)
    log_scale: bool = False  # score log10(1 + value) (only if every value of the group is ≥ 0)


class GroupedScore(NamedTuple):
    rank: int
    group: str
    key: str
    value: float  # the compared value, before any transform
    score: float
    unusualness: float
    is_outlier: bool
    peers: int  # values in the group, this one included
    group_median: float  # median of the group's compared values, before any transform
    transform: str


@dataclass(frozen=True)
class GroupedRanking:
    method: str
    threshold: float
    min_peers: int
    groups_scored: int
    small_groups: int  # groups left unscored for having fewer than min_peers values
    values_in_small_groups: int
    # one entry per scored value, in ranked order (parallel sequences)
    _groups: list[str] = field(default_factory=list, repr=False)
    _keys: list[str] = field(default_factory=list, repr=False)
    _values: list[float] = field(default_factory=list, repr=False)
    _scores: list[float] = field(default_factory=list, repr=False)
    _unusual: list[float] = field(default_factory=list, repr=False)
    _flags: list[bool] = field(default_factory=list, repr=False)
    _peers: dict[str, int] = field(default_factory=dict, repr=False)
    _medians: dict[str, float] = field(default_factory=dict, repr=False)
    _transforms: dict[str, str] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self._keys)

    def top(self, count: int | None = None) -> list[GroupedScore]:
        """The ``count`` most unusual values (all of them with None), most unusual first."""
        end = len(self._keys) if count is None else max(0, min(count, len(self._keys)))
        return [
            GroupedScore(
                index + 1,
                group,
                self._keys[index],
                self._values[index],
                self._scores[index],
                self._unusual[index],
                self._flags[index],
                self._peers[group],
                self._medians[group],
                self._transforms[group],
            )
            for index, group in enumerate(self._groups[:end])
        ]

    @property
    def scores(self) -> list[GroupedScore]:
        return self.top(None)


def rank_within_groups(
    groups: Mapping[str, Group],
    method: str,
    threshold: float | None = None,
    min_peers: int = DEFAULT_MIN_PEERS,
) -> GroupedRanking:
    """Score each value against the others of its group and rank all of them together."""
    if method not in METHODS:
        raise ValueError(f"unknown outlier method {method!r}; choose one of {', '.join(METHODS)}")
    if min_peers < 2:
        raise ValueError("min_peers must be at least 2 (one value has nothing to be compared with)")
    cut = DEFAULT_THRESHOLDS[method] if threshold is None else float(threshold)
    names: list[str] = []
    keys: list[str] = []
    compared: list[NDArray[np.float64]] = []
    scores: list[NDArray[np.float64]] = []
    unusual: list[NDArray[np.float64]] = []
    flags: list[NDArray[np.bool_]] = []
    peers: dict[str, int] = {}
    medians: dict[str, float] = {}
    transforms: dict[str, str] = {}
    small_groups = small_values = 0
    for name in sorted(groups):
        group = groups[name]
        if len(group.keys) != len(group.values):
            raise ValueError(f"group {name!r} has {len(group.keys)} keys for {len(group.values)} values")
        if len(set(group.keys)) != len(group.keys):
            raise ValueError(f"group {name!r} holds the same key twice")
        values = np.asarray(group.values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"group {name!r} holds a value that is not a finite number")
        if len(values) < min_peers:
            small_groups += 1
            small_values += len(values)
            continue
        # keys in order within the group, so that a stable sort by unusualness breaks ties by group, key
        order = sorted(range(len(values)), key=lambda i: group.keys[i])
        values = values[order]
        use_log = group.log_scale and float(values.min()) >= 0.0
        group_scores, group_unusual, group_flags, _ = score_values(
            np.log10(1.0 + values) if use_log else values, method, cut
        )
        names.extend([name] * len(values))
        keys.extend(group.keys[i] for i in order)
        compared.append(values)
        scores.append(group_scores)
        unusual.append(group_unusual)
        flags.append(group_flags)
        peers[name] = len(values)
        medians[name] = float(np.median(values))
        transforms[name] = LOG_TRANSFORM if use_log else NO_TRANSFORM
    if not names:
        return GroupedRanking(method, cut, min_peers, 0, small_groups, small_values)
    all_unusual = np.concatenate(unusual)
    ranked = np.argsort(-all_unusual, kind="stable")  # groups sorted by name, keys within: ties stay so
    return GroupedRanking(
        method=method,
        threshold=cut,
        min_peers=min_peers,
        groups_scored=len(peers),
        small_groups=small_groups,
        values_in_small_groups=small_values,
        _groups=[names[i] for i in ranked],
        _keys=[keys[i] for i in ranked],
        _values=np.concatenate(compared)[ranked].tolist(),
        _scores=np.concatenate(scores)[ranked].tolist(),
        _unusual=all_unusual[ranked].tolist(),
        _flags=np.concatenate(flags)[ranked].tolist(),
        _peers=peers,
        _medians=medians,
        _transforms=transforms,
    )
