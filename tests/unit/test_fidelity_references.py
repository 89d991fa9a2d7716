"""Class 2 of issue 12: relative references under the gateway's prefix name the same place.

The legacy at http://127.0.0.1:1 answers `Location: /cookies`; the gateway, whose base URL is
http://127.0.0.1:2/api/x, answers `Location: /api/x/cookies`. Both become `{base}/cookies`. A reference
outside the prefix is not mapped: a gateway that forgot to rewrite it still differs.
"""

from __future__ import annotations

import pytest

from lockstep.compare import compare
from lockstep.noise import NoiseMask
from lockstep.views import view_of

from .helpers import answer

LEGACY, GATEWAY = "http://127.0.0.1:1", "http://127.0.0.1:2/api/x"
HEADERS = ["content-type", "location", "link", "content-location"]


def views(legacy_headers: dict, gateway_headers: dict, legacy_base: str = LEGACY, gateway_base: str = GATEWAY):
    legacy = view_of(answer(302, headers=legacy_headers), legacy_base, HEADERS, 10**6)
    gateway = view_of(answer(302, headers=gateway_headers, target="gateway"), gateway_base, HEADERS, 10**6)
    return legacy, gateway


@pytest.mark.parametrize("name, legacy, gateway", [
    ("location", "/cookies", "/api/x/cookies"),
    ("location", "/cookies?set=1#top", "/api/x/cookies?set=1#top"),
    ("location", "/", "/api/x/"),
    ("location", "/?page=2", "/api/x?page=2"),
    ("content-location", "/items/7", "/api/x/items/7"),
    ("location", "http://127.0.0.1:1/cookies", "/api/x/cookies"),  # absolute and relative: the same place
    ("location", "/cookies", "http://127.0.0.1:2/api/x/cookies"),
    ("link", '</items?page=2>; rel="next"', '</api/x/items?page=2>; rel="next"'),
    ("link", '</items?page=1>; rel="first", <http://127.0.0.1:1/items?page=9>; rel="last"',
     '<http://127.0.0.1:2/api/x/items?page=1>; rel="first", </api/x/items?page=9>; rel="last"'),
])
def test_relative_references_under_each_prefix_compare_equal(name, legacy, gateway):
    lv, gv = views({name: legacy}, {name: gateway})
    assert compare(lv, gv, NoiseMask()) == [], (lv.headers, gv.headers)


def test_a_legacy_with_its_own_prefix_maps_through_it_too():
    lv, gv = views({"location": "/v1/items/3"}, {"location": "/api/x/items/3"}, legacy_base="http://127.0.0.1:1/v1")
    assert compare(lv, gv, NoiseMask()) == []


@pytest.mark.parametrize("gateway", [
    "/cookies",  # the gateway did not rewrite the upstream's reference: the client would leave the API
    "/api/xy/cookies",  # a longer segment is not under the prefix
    "//127.0.0.1:2/api/x/cookies",  # a network-path reference names a host: only an absolute base maps
])
def test_a_reference_outside_the_prefix_stays_a_difference(gateway):
    lv, gv = views({"location": "/cookies"}, {"location": gateway})
    diffs = compare(lv, gv, NoiseMask())
    assert [(d.category, d.location) for d in diffs] == [("header", "header:location")]
    assert diffs[0].gateway == gateway


def test_link_targets_outside_the_prefix_stay_as_they_are():
    lv, gv = views({"link": '</items?page=2>; rel="next"'}, {"link": '</items?page=2>; rel="next"'})
    assert gv.headers["link"] == '</items?page=2>; rel="next"'
    assert lv.headers["link"] == '<{base}/items?page=2>; rel="next"'
    assert len(compare(lv, gv, NoiseMask())) == 1
