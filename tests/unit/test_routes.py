"""The route inventory's pure parts and the contract's `routes:` and `latency:` sections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lockstep.checks.routes import alias_url, aliases_for, private_operation, private_variants, route_verdict
from lockstep.contract import LatencyPolicy, RouteAlias, RoutesPolicy
from lockstep.operations import Operation
from lockstep.report.inventory import inventory_lines

RECIPE = Operation("GET", "/recipes/{recipe_id}", "getRecipe", ("recipes",), None, "/recipes/r-004", False)
RECIPES = Operation("GET", "/recipes", "listRecipes", ("recipes",), None, "/recipes", False)
MENU = Operation("GET", "/menus", "listMenus", (), None, "/menus", False)


@pytest.mark.parametrize("legacy, gateway, verdict", [
    (200, 200, "routed"), (401, 401, "routed"), (200, 500, "routed"), (422, 400, "routed"),
    (200, 404, "missing"), (401, 404, "missing"), (200, 405, "missing"),
    (404, 404, "ambiguous"), (405, 404, "ambiguous"), (None, 404, "missing"),
])
def test_route_verdict_tells_the_gateways_own_404_by_the_legacys_answer(legacy, gateway, verdict) -> None:
    assert route_verdict(legacy, gateway) == verdict


def test_private_entries_normalise_and_reject_templates() -> None:
    policy = RoutesPolicy(private=["/internal/stats", "head /internal/health"])
    assert policy.private == ["GET /internal/stats", "HEAD /internal/health"]
    op = private_operation(policy.private[0])
    assert (op.label, op.example_path, op.protected) == ("GET /internal/stats", "/internal/stats", False)
    for bad in ("internal/stats", "GET /internal/{id}", "FETCH /x"):
        with pytest.raises(ValidationError):
            RoutesPolicy(private=[bad])


def test_private_variants_probe_the_usual_bypasses() -> None:
    variants = dict(private_variants("http://gw.test:8080/api", "/internal/stats"))
    assert variants == {
        "the path": "http://gw.test:8080/api/internal/stats",
        "trailing slash": "http://gw.test:8080/api/internal/stats/",
        "double slash": "http://gw.test:8080/api//internal/stats",
        "letter case": "http://gw.test:8080/api/Internal/stats",
        "percent-encoded": "http://gw.test:8080/api/%69nternal/stats",
        "the gateway host's root": "http://gw.test:8080/internal/stats",
    }
    assert "the gateway host's root" not in dict(private_variants("https://gw.test", "/internal/stats"))


def test_aliases_cover_the_operations_under_their_new_path() -> None:
    alias = RouteAlias(path="/api/v1/recipes/", same_as="/recipes")
    assert alias.path == "/api/v1/recipes"
    assert aliases_for(RECIPE, [alias]) == [alias] and aliases_for(RECIPES, [alias]) == [alias]
    assert aliases_for(MENU, [alias]) == []
    assert aliases_for(Operation("GET", "/recipes-old", None, (), None, "/recipes-old", False), [alias]) == []
    assert alias_url(alias, RECIPE, "http://gw.test:8080/api") == "http://gw.test:8080/api/v1/recipes/r-004"
    old_host = RouteAlias(path="https://old-api.example.com/v1", same_as="/")
    assert alias_url(old_host, RECIPE, "http://gw.test/api") == "https://old-api.example.com/v1/recipes/r-004"
    for bad in ({"path": "v1", "same_as": "/recipes"}, {"path": "/v1", "same_as": "recipes"}):
        with pytest.raises(ValidationError):
            RouteAlias(**bad)


def test_latency_policy_bounds() -> None:
    assert LatencyPolicy().burst == 0 and LatencyPolicy().sample == 20 and LatencyPolicy().p95_overhead_ms is None
    for bad in ({"burst": 1000}, {"sample": 2}, {"p95_overhead_ms": 0}, {"p95_overhead": 50}):
        with pytest.raises(ValidationError):
            LatencyPolicy(**bad)


def test_inventory_lines_sum_up_and_name_what_is_wrong() -> None:
    figures = {"routes": {
        "GET /a": {"kind": "operation", "verdict": "routed", "legacy": 200, "gateway": 200},
        "GET /b": {"kind": "operation", "verdict": "missing", "legacy": 200, "gateway": 404},
        "GET /internal/stats (private)": {"kind": "private", "verdict": "exposed", "legacy": 200,
                                          "gateway": {"the path": 200, "trailing slash": 404}},
        "GET /a via /v1": {"kind": "alias", "verdict": "like its new path", "legacy": 200, "gateway": 200},
    }}
    lines = inventory_lines(figures)
    assert lines[0] == ("routes: operations 2 (1 missing, 1 routed); private paths 1 (1 exposed); "
                        "aliases 1 (1 like its new path)")
    assert any("missing" in line and "GET /b" in line for line in lines[1:])
    assert any("exposed" in line and "the path: 200" in line and "trailing" not in line for line in lines[1:])
    assert inventory_lines({}) == []
