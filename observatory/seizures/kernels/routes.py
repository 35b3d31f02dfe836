"""Trafficking-route analysis: flow network, transit hubs, chokepoints and emerging routes.

Input is one record per route leg (consecutive countries of a case's route) as numpy arrays
(`LegObservations`); `observations_from_routes` builds them from plain country sequences. Legs are
first aggregated per (period, source, target) with numpy (`aggregate_edges`), so a million cases cost
one sort, and the graph work runs on at most a few hundred countries.

Betweenness: a shortest path between two countries is the path of *strongest* flow, so each edge's
distance is 1 / flow (flow = number of cases, or kilograms). A country with high betweenness lies on
many strongest paths (a transit hub); an edge with high betweenness is a chokepoint. Values are
normalised as networkx does for directed graphs: nodes by (n-1)(n-2), edges by n(n-1). Both are
computed in one Brandes pass (networkx would need two).

Emerging routes compare a period with the K periods before it (periods are consecutive integers:
years, or months counted from an epoch). Counts are *independent events* (distinct cases or reporting
events, as the caller defines them), never kilograms, so one huge seizure cannot decide:
- new: the edge has no event in the K previous periods and at least `min_events` now;
- rising: at least `min_events` now, at least `min_ratio` times the baseline mean, and a one-sided
  Poisson test of the count against the baseline mean gives p < `alpha`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

FlowWeight = Literal["cases", "kg"]


@dataclass(frozen=True)
class LegObservations:
    """One row per route leg: indexes into `countries`, the case's period, kg (NaN unknown), event id."""

    countries: tuple[str, ...]
    source: np.ndarray
    target: np.ndarray
    period: np.ndarray
    kg: np.ndarray
    event: np.ndarray


@dataclass(frozen=True)
class EdgeFlows:
    """Legs aggregated per (period, source, target): cases, kilograms and distinct events."""

    countries: tuple[str, ...]
    period: np.ndarray
    source: np.ndarray
    target: np.ndarray
    cases: np.ndarray
    kg: np.ndarray
    events: np.ndarray


@dataclass(frozen=True)
class FlowNode:
    country: str
    cases_in: int
    cases_out: int
    kg_in: float
    kg_out: float
    betweenness: float


@dataclass(frozen=True)
class FlowEdge:
    source: str
    target: str
    cases: int
    kg: float
    events: int
    betweenness: float


@dataclass(frozen=True)
class FlowNetwork:
    """Ready to draw as flow lines between country centroids, and as tables."""

    periods: tuple[int, ...]
    weight: FlowWeight
    nodes: tuple[FlowNode, ...]
    edges: tuple[FlowEdge, ...]
    hubs: tuple[FlowNode, ...]  # top-N nodes by betweenness (transit hubs)
    chokepoints: tuple[FlowEdge, ...]  # top-N edges by betweenness


@dataclass(frozen=True)
class EmergingRoute:
    source: str
    target: str
    status: Literal["new", "rising"]
    events: int
    cases: int
    kg: float
    baseline_mean_events: float
    ratio: float | None  # events / baseline mean; None for new edges
    p_value: float | None  # one-sided Poisson test; None for new edges


def route_path(
    origin: str | None,
    departure: str | None,
    transit: Sequence[str],
    destination: str | None,
    seizing_country: str | None = None,
) -> tuple[str, ...]:
    """Route countries in order, unknowns dropped, repeats collapsed.

    The seizing country lies on the route by definition: when the report does not name it, it is put
    after departure and transits, before the destination (where the drugs were stopped).
    """
    path = [c for c in (origin, departure, *transit) if c]
    if seizing_country and seizing_country not in path and seizing_country != destination:
        path.append(seizing_country)
    if destination:
        path.append(destination)
    collapsed: list[str] = []
    for country in path:
        if not collapsed or collapsed[-1] != country:
            collapsed.append(country)
    return tuple(collapsed)


def observations_from_routes(
    routes: Sequence[Sequence[str]],
    periods: Sequence[int] | np.ndarray,
    kg: Sequence[float | None] | np.ndarray,
    events: Sequence[int] | np.ndarray | None = None,
) -> LegObservations:
    """Per-case routes (country sequences) -> per-leg arrays. `events` defaults to one event per case."""
    case_count = len(routes)
    route_ids = np.empty(case_count, dtype=np.int64)
    distinct: dict[tuple[str, ...], int] = {}
    for i, route in enumerate(routes):
        key = tuple(route)
        route_ids[i] = distinct.setdefault(key, len(distinct))
    countries = tuple(sorted({c for route in distinct for c in route}))
    code = {c: i for i, c in enumerate(countries)}
    # Legs of each distinct route, then repeated for the cases that follow it.
    leg_source: list[list[int]] = []
    leg_target: list[list[int]] = []
    for route in distinct:
        indexes = [code[c] for c in route]
        leg_source.append(indexes[:-1])
        leg_target.append(indexes[1:])
    legs_per_route = np.array([len(s) for s in leg_source], dtype=np.int64)
    route_offsets = np.concatenate(([0], np.cumsum(legs_per_route)))
    flat_source = np.array([i for s in leg_source for i in s], dtype=np.int32)
    flat_target = np.array([i for t in leg_target for i in t], dtype=np.int32)

    legs_per_case = legs_per_route[route_ids]
    case_of_leg = np.repeat(np.arange(case_count), legs_per_case)
    leg_rank = np.arange(case_of_leg.size) - np.repeat(
        np.cumsum(legs_per_case) - legs_per_case, legs_per_case
    )
    flat_index = route_offsets[route_ids][case_of_leg] + leg_rank
    kg_array = (
        np.array([np.nan if v is None else v for v in kg], dtype=float)
        if not isinstance(kg, np.ndarray)
        else kg.astype(float)
    )
    event_array = np.arange(case_count) if events is None else np.asarray(events, dtype=np.int64)
    return LegObservations(
        countries=countries,
        source=flat_source[flat_index],
        target=flat_target[flat_index],
        period=np.asarray(periods, dtype=np.int64)[case_of_leg],
        kg=kg_array[case_of_leg],
        event=event_array[case_of_leg],
    )


def aggregate_edges(legs: LegObservations) -> EdgeFlows:
    """Sum cases and kg and count distinct events per (period, source, target)."""
    n = len(legs.countries)
    if legs.source.size == 0:
        empty_int = np.zeros(0, dtype=np.int64)
        return EdgeFlows(legs.countries, empty_int, empty_int, empty_int, empty_int, np.zeros(0), empty_int)
    first_period = int(legs.period.min())
    key = ((legs.period - first_period) * n + legs.source) * n + legs.target
    edge_keys, edge_of_leg = np.unique(key, return_inverse=True)
    cases = np.bincount(edge_of_leg, minlength=edge_keys.size)
    kg = np.bincount(edge_of_leg, weights=np.nan_to_num(legs.kg, nan=0.0), minlength=edge_keys.size)
    # Distinct (edge, event) pairs: sort by both, count the first of each run.
    order = np.lexsort((legs.event, edge_of_leg))
    sorted_edges, sorted_events = edge_of_leg[order], legs.event[order]
    first_of_pair = np.ones(order.size, dtype=bool)
    first_of_pair[1:] = (np.diff(sorted_edges) != 0) | (np.diff(sorted_events) != 0)
    events = np.bincount(sorted_edges[first_of_pair], minlength=edge_keys.size)
    return EdgeFlows(
        countries=legs.countries,
        period=edge_keys // (n * n) + first_period,
        source=(edge_keys // n) % n,
        target=edge_keys % n,
        cases=cases.astype(np.int64),
        kg=kg,
        events=events.astype(np.int64),
    )


def _combine_periods(
    flows: EdgeFlows, periods: Iterable[int] | None
) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if periods is None:
        chosen = tuple(sorted({int(p) for p in flows.period}))
        mask = np.ones(flows.period.size, dtype=bool)
    else:
        chosen = tuple(sorted(set(periods)))
        mask = np.isin(flows.period, chosen)
    n = len(flows.countries)
    pair = flows.source[mask] * n + flows.target[mask]
    pairs, inverse = np.unique(pair, return_inverse=True)
    cases = np.bincount(inverse, weights=flows.cases[mask], minlength=pairs.size).astype(np.int64)
    kg = np.bincount(inverse, weights=flows.kg[mask], minlength=pairs.size)
    # Events summed over periods: an event belongs to one period, so the sum stays distinct.
    events = np.bincount(inverse, weights=flows.events[mask], minlength=pairs.size).astype(np.int64)
    return chosen, pairs // n, pairs % n, cases, kg, events


def betweenness(
    node_count: int, edges: Sequence[tuple[int, int, float]]
) -> tuple[list[float], dict[tuple[int, int], float]]:
    """Normalised node and edge betweenness of a directed graph, distance = edge length given.

    Brandes' algorithm with Dijkstra from every source, accumulating nodes and edges in one pass.
    """
    adjacency: list[list[tuple[int, float]]] = [[] for _ in range(node_count)]
    for source, target, length in edges:
        if source != target:
            adjacency[source].append((target, length))
    node_score = [0.0] * node_count
    edge_score: dict[tuple[int, int], float] = {(s, t): 0.0 for s, t, _ in edges if s != t}
    for start in range(node_count):
        # Dijkstra from `start`, counting shortest paths (sigma) and keeping all predecessors.
        order: list[int] = []
        predecessors: list[list[int]] = [[] for _ in range(node_count)]
        sigma = [0.0] * node_count
        sigma[start] = 1.0
        settled: dict[int, float] = {}
        tentative = {start: 0.0}
        queue = [(0.0, start, start)]
        while queue:
            dist, previous, node = heapq.heappop(queue)
            if node in settled:
                continue
            sigma[node] += sigma[previous]  # uniform factor 2 from the start node cancels in ratios
            order.append(node)
            settled[node] = dist
            for neighbour, length in adjacency[node]:
                candidate = dist + length
                if neighbour not in settled and (
                    neighbour not in tentative or candidate < tentative[neighbour]
                ):
                    tentative[neighbour] = candidate
                    heapq.heappush(queue, (candidate, node, neighbour))
                    sigma[neighbour] = 0.0
                    predecessors[neighbour] = [node]
                elif candidate == tentative.get(neighbour):
                    sigma[neighbour] += sigma[node]
                    predecessors[neighbour].append(node)
        # Accumulate dependencies back from the farthest node.
        dependency = [0.0] * node_count
        for node in reversed(order):
            for previous in predecessors[node]:
                share = sigma[previous] / sigma[node] * (1.0 + dependency[node])
                edge_score[(previous, node)] += share
                dependency[previous] += share
            if node != start:
                node_score[node] += dependency[node]
    if node_count > 2:
        node_scale = 1.0 / ((node_count - 1) * (node_count - 2))
        node_score = [score * node_scale for score in node_score]
    if node_count > 1:
        edge_scale = 1.0 / (node_count * (node_count - 1))
        edge_score = {edge: score * edge_scale for edge, score in edge_score.items()}
    return node_score, edge_score


def flow_network(
    flows: EdgeFlows,
    periods: Iterable[int] | None = None,
    weight: FlowWeight = "cases",
    top_n: int = 10,
) -> FlowNetwork:
    """The flow network over `periods` (all when None), with hubs and chokepoints ranked."""
    chosen, sources, targets, cases, kg, events = _combine_periods(flows, periods)
    used = np.unique(np.concatenate((sources, targets)))
    local = {int(code): i for i, code in enumerate(used)}
    flow = cases.astype(float) if weight == "cases" else kg
    # Edges without any flow of the chosen kind (kg unknown) are nearly impassable, not absent.
    lengths = np.where(flow > 0, 1.0 / np.where(flow > 0, flow, 1.0), 1e12)
    edge_list = [
        (local[int(s)], local[int(t)], float(length))
        for s, t, length in zip(sources, targets, lengths, strict=True)
    ]
    node_scores, edge_scores = betweenness(len(used), edge_list)

    names = flows.countries
    cases_in = np.bincount([local[int(t)] for t in targets], weights=cases, minlength=len(used))
    cases_out = np.bincount([local[int(s)] for s in sources], weights=cases, minlength=len(used))
    kg_in = np.bincount([local[int(t)] for t in targets], weights=kg, minlength=len(used))
    kg_out = np.bincount([local[int(s)] for s in sources], weights=kg, minlength=len(used))
    nodes = tuple(
        FlowNode(names[int(code)], int(cases_in[i]), int(cases_out[i]), float(kg_in[i]), float(kg_out[i]),
                 node_scores[i])
        for i, code in enumerate(used)
    )  # fmt: skip
    edges = tuple(
        FlowEdge(
            names[int(s)], names[int(t)], int(c), float(k), int(e),
            edge_scores.get((local[int(s)], local[int(t)]), 0.0),
        )
        for s, t, c, k, e in zip(sources, targets, cases, kg, events, strict=True)
        if s != t
    )  # fmt: skip
    hubs = tuple(
        sorted(nodes, key=lambda n: (-n.betweenness, -(n.cases_in + n.cases_out), n.country))[:top_n]
    )
    chokepoints = tuple(sorted(edges, key=lambda e: (-e.betweenness, -e.cases, e.source, e.target))[:top_n])
    return FlowNetwork(chosen, weight, nodes, edges, hubs, chokepoints)


def emerging_routes(
    flows: EdgeFlows,
    period: int,
    previous_periods: int = 3,
    min_events: int = 3,
    alpha: float = 0.01,
    min_ratio: float = 2.0,
) -> tuple[EmergingRoute, ...]:
    """Edges new in `period` or rising against the mean of the `previous_periods` before it."""
    if previous_periods < 1:
        raise ValueError("previous_periods must be at least 1")
    n = len(flows.countries)
    pair = flows.source * n + flows.target
    current = flows.period == period
    baseline = (flows.period >= period - previous_periods) & (flows.period < period)
    baseline_pairs, baseline_inverse = np.unique(pair[baseline], return_inverse=True)
    baseline_events = np.bincount(
        baseline_inverse, weights=flows.events[baseline], minlength=baseline_pairs.size
    )
    baseline_of = dict(
        zip(baseline_pairs.tolist(), (baseline_events / previous_periods).tolist(), strict=True)
    )

    found: list[EmergingRoute] = []
    for p, events, cases, kg in zip(
        pair[current].tolist(), flows.events[current].tolist(), flows.cases[current].tolist(),
        flows.kg[current].tolist(), strict=True,
    ):  # fmt: skip
        source, target = divmod(p, n)
        if source == target or events < min_events:
            continue
        mean = baseline_of.get(p, 0.0)
        names = flows.countries[source], flows.countries[target]
        if mean == 0.0:
            found.append(EmergingRoute(*names, "new", events, cases, kg, 0.0, None, None))
            continue
        ratio = events / mean
        from scipy.stats import poisson  # imported when first needed: scipy.stats takes seconds to load

        p_value = float(poisson.sf(events - 1, mean))  # P(X >= events | baseline mean)
        if ratio >= min_ratio and p_value < alpha:
            found.append(EmergingRoute(*names, "rising", events, cases, kg, mean, ratio, p_value))
    found.sort(key=lambda r: (r.status != "new", -r.events, r.source, r.target))
    return tuple(found)
