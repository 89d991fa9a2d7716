import gzip
import json
import zlib

import brotli
import httpx

from lockstep.compare import compare
from lockstep.contract import TargetSpec
from lockstep.noise import NoiseMask
from lockstep.targets import Target
from lockstep.views import view_of

HEADERS = ["content-type", "location"]
PAYLOAD = json.dumps({"items": [{"id": i, "name": f"recipe {i}"} for i in range(50)]}).encode()


def fetch(response: httpx.Response, name: str = "gateway"):
    target = Target(name, TargetSpec(url="http://127.0.0.1:9"), transport=httpx.MockTransport(lambda r: response))
    answer = target.send(httpx.Request("GET", "http://127.0.0.1:9/x"))
    return view_of(answer, "http://127.0.0.1:9", HEADERS, 1_000_000)


def test_compressed_answers_compare_equal_to_plain_ones():
    plain = fetch(httpx.Response(200, headers={"content-type": "application/json"}, content=PAYLOAD), "legacy")
    for encoding, packed in (("gzip", gzip.compress(PAYLOAD)), ("deflate", zlib.compress(PAYLOAD)),
                             ("br", brotli.compress(PAYLOAD))):
        gw = fetch(httpx.Response(200, headers={"content-type": "application/json", "content-encoding": encoding},
                                  content=packed))
        assert compare(plain, gw, NoiseMask()) == [], encoding


def test_invalid_utf8_text_is_compared_as_bytes_without_crashing():
    legacy = fetch(httpx.Response(200, headers={"content-type": "text/plain"}, content=b"caf\xe9"), "legacy")
    gateway = fetch(httpx.Response(200, headers={"content-type": "text/plain"}, content=b"caf\xc3\xa9"))
    [diff] = compare(legacy, gateway, NoiseMask())
    assert diff.category == "body-value" and diff.exact == "body:@3"


def test_empty_204_bodies_are_equal_and_an_unexpected_body_is_not():
    empty = fetch(httpx.Response(204), "legacy")
    assert compare(empty, fetch(httpx.Response(204)), NoiseMask()) == []
    body = fetch(httpx.Response(204, headers={"content-type": "application/json"}, content=b"{}"))
    assert sorted(d.category for d in compare(empty, body, NoiseMask())) == ["body-type", "header"]


def test_redirects_are_not_followed_so_a_loop_cannot_hang_a_run():
    calls = []

    def loop(request):
        calls.append(request)
        return httpx.Response(302, headers={"location": str(request.url)})

    target = Target("gateway", TargetSpec(url="http://127.0.0.1:9"), transport=httpx.MockTransport(loop))
    answer = target.send(httpx.Request("GET", "http://127.0.0.1:9/x"))
    assert answer.status == 302 and len(calls) == 1
