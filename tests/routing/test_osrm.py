import socket
from collections.abc import Iterator

import httpx
import pytest

from replenish.routing import (
    DayProblem,
    HaversineSource,
    OsrmSource,
    Point,
    distance_source,
    plan_routes,
)
from tests.fakes.osrm_server import SPEED_KMH, FakeOsrm, road_m
from tests.routing.town import SHOP, courier, stop

TOWN = [Point(22.99, 120.21), Point(23.00, 120.21), Point(22.98, 120.22), Point(22.995, 120.19)]
HAVERSINE = HaversineSource(detour_factor=1.3, speed_kmh=25)


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with FakeOsrm() as server:
        yield server


def fake_numbers(points):
    """What the fake OSRM answers (0.1 m, 0.1 s), rounded to whole metres and seconds."""
    road = [[road_m((a.lon, a.lat), (b.lon, b.lat)) for b in points] for a in points]
    metres = [[round(round(m, 1)) for m in row] for row in road]
    seconds = [[round(round(m * 3.6 / SPEED_KMH, 1)) for m in row] for row in road]
    return metres, seconds


def test_it_reads_road_distances_and_durations_from_osrm(osrm):
    matrix = OsrmSource(osrm.base_url, timeout_s=2, fallback=HAVERSINE).matrix(TOWN)
    distance, duration = fake_numbers(TOWN)
    assert matrix.distance_m.tolist() == distance
    assert matrix.duration_s.tolist() == duration
    assert matrix.warnings == ()
    (request,) = osrm.received
    assert request.path.startswith("/table/v1/driving/120.210000,22.990000;120.210000,23.000000")
    assert request.query["annotations"] == "distance,duration"


def test_a_big_matrix_is_asked_for_in_blocks_the_server_accepts():
    points = [Point(22.95 + 0.01 * i, 120.15 + 0.013 * (i % 4)) for i in range(10)]
    with FakeOsrm(max_table_size=4) as small:
        matrix = OsrmSource(small.base_url, max_table_size=4).matrix(points)
        blocks = small.received
    assert matrix.warnings == ()
    assert matrix.distance_m.tolist() == fake_numbers(points)[0]
    assert len(blocks) == 9  # rows 0-3, 4-7, 8-9 × the same columns
    # the diagonal blocks ask for a whole small table, the others name their sources
    assert sum("sources" in b.query and "destinations" in b.query for b in blocks) == 6
    assert max(b.coordinates for b in blocks) == 8


def test_a_table_bigger_than_the_server_allows_falls_back_with_the_reason():
    with FakeOsrm(max_table_size=3) as small:
        matrix = OsrmSource(small.base_url, max_table_size=100, fallback=HAVERSINE).matrix(TOWN)
    assert matrix.distance_m.tolist() == HAVERSINE.matrix(TOWN).distance_m.tolist()
    (warning,) = matrix.warnings
    assert "TooBig" in warning


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda osrm: osrm.fail_next(status=500), "HTTP 500"),
        (lambda osrm: osrm.fail_next(status=503), "HTTP 503"),
        (lambda osrm: osrm.answer_code_next(code="InvalidQuery"), "InvalidQuery"),
        (lambda osrm: osrm.answer_code_next(code="NoSegment"), "NoSegment"),
        (lambda osrm: osrm.hang_next(seconds=3), "Timeout"),
    ],
    ids=["500", "503", "invalid query", "no segment", "too slow"],
)
def test_when_osrm_fails_it_falls_back_to_haversine_with_a_warning(osrm, break_it, expected):
    break_it(osrm)
    matrix = OsrmSource(osrm.base_url, timeout_s=0.3, fallback=HAVERSINE).matrix(TOWN)
    assert matrix.distance_m.tolist() == HAVERSINE.matrix(TOWN).distance_m.tolist()
    assert matrix.duration_s.tolist() == HAVERSINE.matrix(TOWN).duration_s.tolist()
    (warning,) = matrix.warnings
    assert warning.startswith("OSRM failed (")
    assert expected in warning
    assert "haversine × 1.3 at 25 km/h" in warning


def test_when_nothing_listens_it_falls_back_to_haversine_with_a_warning():
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    matrix = OsrmSource(f"http://127.0.0.1:{port}", timeout_s=1).matrix(TOWN)
    assert matrix.distance_m.tolist() == HaversineSource().matrix(TOWN).distance_m.tolist()
    assert "ConnectError" in matrix.warnings[0]


def test_an_answer_that_is_not_osrm_json_falls_back():
    def not_osrm(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy login</html>")

    with httpx.Client(transport=httpx.MockTransport(not_osrm)) as client:
        matrix = OsrmSource("http://osrm.invalid", client=client).matrix(TOWN)
    assert "not a JSON object" in matrix.warnings[0]


def test_pairs_without_a_road_are_filled_from_haversine_with_a_warning(osrm):
    island = TOWN[3]
    osrm.no_road_to(island.lat, island.lon)
    matrix = OsrmSource(osrm.base_url, fallback=HAVERSINE).matrix(TOWN)
    distance, _ = fake_numbers(TOWN)
    guess = HAVERSINE.matrix(TOWN).distance_m
    assert matrix.distance_m[0, 1] == distance[0][1]  # from OSRM
    assert matrix.distance_m[0, 3] == guess[0, 3]  # filled in
    assert matrix.distance_m[3, 2] == guess[3, 2]
    assert matrix.distance_m[3, 3] == 0
    (warning,) = matrix.warnings
    assert warning.startswith("OSRM found no road for 6 of 12 pairs")


def test_the_settings_choose_osrm_only_when_a_url_is_given(osrm):
    assert isinstance(distance_source(), HaversineSource)
    source = distance_source(osrm_url=osrm.base_url, detour_factor=1.5, speed_kmh=20)
    assert isinstance(source, OsrmSource)
    assert source.fallback == HaversineSource(detour_factor=1.5, speed_kmh=20)


def test_the_warning_of_a_failed_osrm_is_kept_on_the_plan_and_its_routes(osrm):
    osrm.fail_next(status=500)
    problem = DayProblem(SHOP, (courier(1),), (stop(1, north_m=800), stop(2, east_m=600)))
    plan = plan_routes(problem, OsrmSource(osrm.base_url), time_limit_s=0.2)
    assert plan.planned_count == 2
    assert any(w.startswith("OSRM failed (HTTP 500") for w in plan.warnings)
    assert plan.routes[0].warnings == plan.warnings
