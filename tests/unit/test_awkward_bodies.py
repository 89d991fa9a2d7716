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


def test_a_body_past_the_limit_streams_into_a_digest_and_the_first_differing_block_is_found():
    big = bytes(range(256)) * (3 * 4096)  # 3 MiB
    changed = big[:2_000_000] + b"\x00" + big[2_000_001:]

    def send(body: bytes, name: str):
        target = Target(name, TargetSpec(url="http://127.0.0.1:9"), max_body_bytes=1_000_000,
                        transport=httpx.MockTransport(lambda r: httpx.Response(
                            200, headers={"content-type": "application/octet-stream"}, content=body)))
        answer = target.send(httpx.Request("GET", "http://127.0.0.1:9/x"))
        assert answer.body == b"" and answer.digest is not None and answer.digest.size == len(body)
        return view_of(answer, "http://127.0.0.1:9", HEADERS, 1_000_000)

    legacy = send(big, "legacy")
    assert compare(legacy, send(big, "gateway"), NoiseMask()) == []
    [diff] = compare(legacy, send(changed, "gateway"), NoiseMask())
    assert diff.category == "body-value" and diff.exact == f"body:@{(2_000_000 // 65536) * 65536}"


def test_a_body_within_the_limit_is_kept_whole():
    target = Target("legacy", TargetSpec(url="http://127.0.0.1:9"), max_body_bytes=1_000_000,
                    transport=httpx.MockTransport(lambda r: httpx.Response(200, content=PAYLOAD)))
    answer = target.send(httpx.Request("GET", "http://127.0.0.1:9/x"))
    assert answer.body == PAYLOAD and answer.digest is None
