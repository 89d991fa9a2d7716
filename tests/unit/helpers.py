import json

import httpx

from lockstep.targets import Answer


def answer(status=200, body=None, headers=None, target="legacy", raw: bytes | None = None) -> Answer:
    headers = dict(headers or {})
    if raw is None:
        raw = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            headers.setdefault("content-type", "application/json")
    return Answer(target=target, method="GET", url="http://127.0.0.1:1/x", request_headers={}, request_body=b"",
                  status=status, headers=httpx.Headers(headers), body=raw)
