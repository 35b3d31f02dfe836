"""Route kernel on small graphs whose answers are known by hand."""

import networkx as nx
import numpy as np
import pytest

from observatory.seizures.kernels.routes import (
    aggregate_edges,
    betweenness,
    emerging_routes,
    flow_network,
    observations_from_routes,
    route_path,
)


def flows_of(routes, periods, kg=None, events=None):
    kg = [1.0] * len(routes) if kg is None else kg
    return aggregate_edges(observations_from_routes(routes, periods, kg, events))


def test_star_with_one_hub():
    # Given two producers shipping through HUB to two markets
    routes = [("AAA", "HUB", "CCC"), ("BBB", "HUB", "DDD"), ("AAA", "HUB", "DDD"), ("BBB", "HUB", "CCC")]
    # When the network is built
    network = flow_network(flows_of(routes, [2020] * 4), top_n=1)
    # Then HUB lies on all 4 source-target pairs that cross it: 4 / ((5-1)(5-2)) = 1/3
    assert network.hubs[0].country == "HUB"
    assert network.hubs[0].betweenness == pytest.approx(1 / 3)
    assert {n.country: n.betweenness for n in network.nodes if n.country != "HUB"} == {
        "AAA": 0.0, "BBB": 0.0, "CCC": 0.0, "DDD": 0.0,
    }  # fmt: skip
    hub = next(n for n in network.nodes if n.country == "HUB")
    assert (hub.cases_in, hub.cases_out) == (4, 4)


def test_chain_middle_node_has_highest_betweenness():
    # Given the chain A -> B -> C -> D -> E
    network = flow_network(flows_of([("AAA", "BBB", "CCC", "DDD", "EEE")], [2020]))
    scores = {n.country: n.betweenness for n in network.nodes}
    # Then C carries 4 of 12 ordered pairs, B and D 3 each, the ends none
    assert scores == pytest.approx({"AAA": 0.0, "BBB": 0.25, "CCC": 1 / 3, "DDD": 0.25, "EEE": 0.0})
    assert network.hubs[0].country == "CCC"
    # And the middle edges are the chokepoints: B->C and C->D carry 6 of 20 pairs
    edges = {(e.source, e.target): e.betweenness for e in network.edges}
    assert edges == pytest.approx(
        {("AAA", "BBB"): 0.2, ("BBB", "CCC"): 0.3, ("CCC", "DDD"): 0.3, ("DDD", "EEE"): 0.2}
    )


def test_distance_is_inverse_flow():
    # Given two parallel paths A->X->D (9 cases per leg) and A->Y->D (1 case per leg)
    routes = [("AAA", "XXX", "DDD")] * 9 + [("AAA", "YYY", "DDD")]
    network = flow_network(flows_of(routes, [2020] * 10))
    scores = {n.country: n.betweenness for n in network.nodes}
    # Then the strong path (length 2/9) wins A->D over the weak one (length 2): 1 pair of (4-1)(4-2)
    assert scores["XXX"] == pytest.approx(1 / 6)
    assert scores["YYY"] == 0.0


def test_betweenness_matches_networkx_on_random_weighted_graph():
    graph = nx.gnp_random_graph(25, 0.2, directed=True, seed=3)
    rng = np.random.default_rng(3)
    edges = [(u, v, float(rng.choice([0.5, 1.0, 2.0]))) for u, v in graph.edges]
    for u, v, length in edges:
        graph[u][v]["length"] = length
    nodes, edge_scores = betweenness(25, edges)
    expected_nodes = nx.betweenness_centrality(graph, weight="length")
    expected_edges = nx.edge_betweenness_centrality(graph, weight="length")
    assert nodes == pytest.approx([expected_nodes[i] for i in range(25)])
    assert edge_scores == pytest.approx(expected_edges)


def test_edge_new_in_period_is_emerging():
    # Given A->B every year and A->C only in 2023, with 4 independent cases
    routes = [("AAA", "BBB")] * 12 + [("AAA", "CCC")] * 4
    periods = [2020] * 4 + [2021] * 4 + [2022] * 4 + [2023] * 4
    routes_2023 = routes[:12] + [("AAA", "BBB")] * 4 + routes[12:]
    periods_2023 = periods[:12] + [2023] * 4 + [2023] * 4
    # When 2023 is compared with the 3 years before
    emerging = emerging_routes(flows_of(routes_2023, periods_2023), 2023, previous_periods=3, min_events=3)
    # Then only A->C is flagged, as new
    assert [(r.source, r.target, r.status, r.events, r.cases) for r in emerging] == [
        ("AAA", "CCC", "new", 4, 4)
    ]
    assert emerging[0].ratio is None and emerging[0].p_value is None


def test_single_huge_seizure_is_not_emerging():
    # Given a new edge seen once, with 10 tonnes, and an old edge whose kg explodes through one seizure
    routes = [("AAA", "BBB")] * 6 + [("AAA", "BBB"), ("XXX", "YYY")]
    periods = [2020, 2020, 2021, 2021, 2022, 2022, 2023, 2023]
    kg = [1.0] * 6 + [50_000.0, 10_000.0]
    # When 2023 is analysed
    emerging = emerging_routes(flows_of(routes, periods, kg), 2023, previous_periods=3, min_events=3)
    # Then nothing is flagged: one event decides nothing however heavy
    assert emerging == ()


def test_many_cases_of_one_event_count_once():
    # Given five cases on a new edge that all belong to one reporting event (one operation)
    routes = [("AAA", "CCC")] * 5
    emerging = emerging_routes(flows_of(routes, [2023] * 5, events=[77] * 5), 2023, min_events=3)
    # Then the edge has 5 cases but 1 event, below the minimum
    assert emerging == ()
    flows = flows_of(routes, [2023] * 5, events=[77] * 5)
    assert (int(flows.cases[0]), int(flows.events[0])) == (5, 1)


def test_rising_edge_is_flagged():
    # Given A->B with 2 cases a year for 3 years, then 12 in 2023
    counts = {2020: 2, 2021: 2, 2022: 2, 2023: 12}
    routes = [("AAA", "BBB")] * sum(counts.values())
    periods = [year for year, n in counts.items() for _ in range(n)]
    emerging = emerging_routes(flows_of(routes, periods), 2023, previous_periods=3, min_events=3)
    # Then it rises 6-fold over the baseline mean of 2, far beyond Poisson noise
    assert len(emerging) == 1
    route = emerging[0]
    assert (route.source, route.target, route.status, route.events) == ("AAA", "BBB", "rising", 12)
    assert route.baseline_mean_events == pytest.approx(2.0)
    assert route.ratio == pytest.approx(6.0)
    assert route.p_value is not None and route.p_value < 1e-4


def test_steady_edge_is_not_rising():
    counts = {2020: 10, 2021: 12, 2022: 11, 2023: 13}
    routes = [("AAA", "BBB")] * sum(counts.values())
    periods = [year for year, n in counts.items() for _ in range(n)]
    assert emerging_routes(flows_of(routes, periods), 2023) == ()


def test_route_path_orders_and_places_the_seizing_country():
    assert route_path("COL", "ECU", ("PAN",), "ESP", "PAN") == ("COL", "ECU", "PAN", "ESP")
    assert route_path("COL", "COL", (), "USA", "MEX") == ("COL", "MEX", "USA")
    assert route_path(None, "ECU", (), None, "BEL") == ("ECU", "BEL")
    assert route_path("MAR", None, (), None, "MAR") == ("MAR",)


def test_aggregation_sums_cases_kg_and_distinct_events_per_period():
    routes = [("AAA", "BBB", "CCC"), ("AAA", "BBB"), ("AAA", "BBB")]
    flows = flows_of(routes, [2020, 2020, 2021], kg=[2.0, None, 5.0], events=[1, 1, 2])
    table = {
        (int(p), flows.countries[s], flows.countries[t]): (int(c), float(k), int(e))
        for p, s, t, c, k, e in zip(
            flows.period, flows.source, flows.target, flows.cases, flows.kg, flows.events, strict=True
        )
    }
    assert table == {
        (2020, "AAA", "BBB"): (2, 2.0, 1),
        (2020, "BBB", "CCC"): (1, 2.0, 1),
        (2021, "AAA", "BBB"): (1, 5.0, 1),
    }
