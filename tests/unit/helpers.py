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


def flow_runner(legacy, gateway, contract, operations=(), facts=None, disabled=()):
    """A FlowRunner over two lockstep Targets (real servers or httpx.MockTransport ones), no session:
    `runner.run(flow, operation, group)` runs the registered checks; `counts` counts requests per operation.
    `contract` needs only the attributes the flow's policy slice reads (e.g. SimpleNamespace(cors=...))."""
    from collections import Counter

    from lockstep.engine.context import RunFacts
    from lockstep.engine.flows import FlowRunner
    from lockstep.engine.record import Recorder
    from lockstep.engine.registry import load_all_checks
    from lockstep.engine.send import Sender
    from lockstep.findings import FindingBook, Rules

    load_all_checks()
    counts = Counter()
    count = lambda op: counts.__setitem__(op, counts[op] + 1)  # noqa: E731
    runner = FlowRunner(contract, facts or RunFacts(), Sender({"legacy": legacy, "gateway": gateway}, count),
                        Recorder(Rules([], []), FindingBook()), operations, {}, disabled=disabled)
    runner.counts = counts
    return runner
