"""Class 3 of issue 12: base URLs inside bodies, and the legacy host leaking through one.

An HTML redirect page, an NDJSON stream, JSON `self`/`next` links and HAL `_links.*.href` that name
each target's own base URL compare equal; a gateway body naming the legacy's host is a `host-leak` at
the place that names it.
"""

from __future__ import annotations

import json

import pytest

from lockstep import views as views_module
from lockstep.compare import compare, host_leaks
from lockstep.noise import NoiseMask
from lockstep.views import view_of

from .helpers import answer

LEGACY, GATEWAY = "http://127.0.0.1:1", "http://127.0.0.1:2/api/x"
HEADERS = ["content-type"]


def raw(text: str, ctype: str, target: str = "legacy"):
    return answer(200, raw=text.encode(), headers={"content-type": ctype}, target=target)


def pair(legacy_text: str, gateway_text: str, ctype: str):
    legacy = view_of(raw(legacy_text, ctype), LEGACY, HEADERS, 10**6)
    gateway = view_of(raw(gateway_text, ctype, "gateway"), GATEWAY, HEADERS, 10**6)
    return compare(legacy, gateway, NoiseMask())


def redirect_page(base: str) -> str:
    return (f'<!doctype html><title>Redirecting...</title><p>You should be redirected to '
            f'<a href="{base}/cookies">{base}/cookies</a>.')


def stream(base: str) -> str:
    return "".join(json.dumps({"id": i, "url": f"{base}/stream/3", "args": {}}) + "\n" for i in range(3))


def hal(base: str, relative_prefix: str = "") -> str:
    return json.dumps({"id": 7, "_links": {"self": {"href": f"{base}/orders/7"},
                                           "next": {"href": f"{relative_prefix}/orders?page=2"}},
                       "_embedded": {"items": [{"_links": {"self": {"href": f"{base}/items/1"}}}]}})


@pytest.mark.parametrize("legacy, gateway, ctype", [
    (redirect_page(LEGACY), redirect_page(GATEWAY), "text/html; charset=utf-8"),
    (stream(LEGACY), stream(GATEWAY), "application/x-ndjson"),
    (json.dumps({"self": f"{LEGACY}/items?page=1", "next": f"{LEGACY}/items?page=2", "items": []}),
     json.dumps({"self": f"{GATEWAY}/items?page=1", "next": f"{GATEWAY}/items?page=2", "items": []}),
     "application/json"),
    (hal(LEGACY), hal(GATEWAY, "/api/x"), "application/hal+json"),
    (hal(LEGACY), hal(GATEWAY), "application/hal+json"),  # an upstream that never learnt the prefix
    ('<a href="/cookies">next</a>', '<a href="/api/x/cookies">next</a>', "text/html"),  # an upstream that knows it
    (json.dumps({"echo": "/api/x/sent-by-the-client"}), json.dumps({"echo": "/api/x/sent-by-the-client"}),
     "application/json"),  # the same string on both sides is never rewritten into a difference
    ('<feed><link href="http://127.0.0.1:1/feed?page=2"/></feed>',
     '<feed><link href="http://127.0.0.1:2/api/x/feed?page=2"/></feed>', "application/atom+xml"),
])
def test_bodies_naming_each_targets_own_base_url_compare_equal(legacy, gateway, ctype):
    assert pair(legacy, gateway, ctype) == []


@pytest.mark.parametrize("legacy, gateway", [
    ({"next": f"{LEGACY}/items?page=2"}, {"next": f"{GATEWAY}/items?page=3"}),  # the page differs
    ({"next": f"{LEGACY}/items"}, {"next": "http://127.0.0.1:2/items"}),  # the gateway's host without its prefix
    ({"next": "/items"}, {"next": "/api/xy/items"}),
])
def test_a_real_difference_inside_a_link_is_still_found(legacy, gateway):
    diffs = pair(json.dumps(legacy), json.dumps(gateway), "application/json")
    assert [(d.category, d.location) for d in diffs] == [("body-value", "body:/next")]


def test_a_longer_host_or_port_is_not_the_base():
    diffs = pair(json.dumps({"u": "http://127.0.0.1:12/x"}), json.dumps({"u": "http://127.0.0.1:22/api/x/x"}),
                 "application/json")
    assert len(diffs) == 1


def test_an_ndjson_stream_is_compared_line_by_line():
    diffs = pair(stream(LEGACY), stream(GATEWAY).replace('"id": 2', '"id": 5'), "application/x-ndjson")
    assert [(d.location, d.exact) for d in diffs] == [("body:/*/id", "body:/2/id")]


@pytest.mark.parametrize("body, ctype, where, exact", [
    (hal(LEGACY).replace('"next": {"href": "/orders', '"next": {"href": "http://127.0.0.1:1/orders'),
     "application/hal+json", ["body:/_links/self/href", "body:/_links/next/href",
                              "body:/_embedded/items/*/_links/self/href"],
     ["body:/_links/self/href", "body:/_links/next/href", "body:/_embedded/items/0/_links/self/href"]),
    (stream(LEGACY), "application/x-ndjson", ["body:/*/url"] * 3, ["body:/0/url", "body:/1/url", "body:/2/url"]),
    (redirect_page(LEGACY), "text/html", ["body:"], [f"body:@{redirect_page(LEGACY).index('127.0.0.1:1')}"]),
])
def test_a_gateway_body_naming_the_legacy_host_is_a_located_host_leak(body, ctype, where, exact):
    leaks = host_leaks(raw(body, ctype, "gateway"), LEGACY)
    assert [d.category for d in leaks] == ["host-leak"] * len(where)
    assert [d.location for d in leaks] == where and [d.exact for d in leaks] == exact
    assert all("127.0.0.1:1" in d.gateway for d in leaks)


def test_a_body_that_names_no_host_is_not_walked(monkeypatch):
    def walked(*args):
        raise AssertionError("walked a body that names neither the host nor the prefix")

    monkeypatch.setattr(views_module, "_map_json", walked)
    view = view_of(raw(json.dumps({"next": "/items?page=2", "n": [1, 2]}), "application/json"), GATEWAY, HEADERS, 10**6)
    assert view.body == {"next": "/items?page=2", "n": [1, 2]}
    assert host_leaks(raw('{"next": "/items"}', "application/json", "gateway"), LEGACY) == []
