"""The anchor of `vs_schemathesis_ratio`: Schemathesis alone testing only the gateway.

Run by bench/run.py as `pytest bench/schemathesis_alone.py --noconftest` (so lockstep's plugin is NOT
loaded), with the same document, seed, max_examples, generation modes and phases as lockstep's profile,
passed in the environment:

    BENCH_SPEC, BENCH_GATEWAY_URL, GATEWAY_TOKEN, BENCH_SEED, BENCH_MAX_EXAMPLES, BENCH_PHASES (a,b),
    BENCH_NEGATIVE (0/1), BENCH_COUNT_FILE (where the number of cases sent is written)

Each case is sent once, to the gateway, and judged by Schemathesis's own response checks (the same
list lockstep runs on both answers). Public Schemathesis API only; nothing from lockstep is imported.
The names here avoid the substrings "get"/"post" so `-k GET` selects operations exactly as it does
for suites/test_parity.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(os.environ.get("BENCH_SPEC", "contracts/demo-api.yaml"))
schema.config.update(base_url=os.environ.get("BENCH_GATEWAY_URL", "http://127.0.0.1:9/api"))
_modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if os.environ.get("BENCH_NEGATIVE") == "1" else [])
schema.config.generation.update(max_examples=int(os.environ.get("BENCH_MAX_EXAMPLES", "10")), modes=_modes,
                                unique_inputs=True, database="none")
schema.config.phases.update(phases=os.environ.get("BENCH_PHASES", "examples,fuzzing").split(","))
schema.config.seed = int(os.environ.get("BENCH_SEED", "7"))
schema.config.cache.enabled = False

_AUTH = {"Authorization": f"Bearer {os.environ.get('GATEWAY_TOKEN', '')}"}
_sent = [0]


@pytest.fixture(scope="session", autouse=True)
def _count_cases():
    yield
    out = os.environ.get("BENCH_COUNT_FILE")
    if out:
        Path(out).write_text(str(_sent[0]))


@schema.parametrize()
def test_schemathesis_alone(case):
    _sent[0] += 1
    response = case.call(headers=_AUTH)
    case.validate_response(response, checks=CHECKS)
