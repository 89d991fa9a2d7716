"""Direct probes of the two auth-service faults (the shape of tests/test_demo_faults.py's PROBES): with
the fault the symptom shows, faithful it does not. Eight token requests at once, by threads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from lockstep.demo import DemoStack
from lockstep.demo.auth_service import CLIENTS, SLOW_SIGNING_S

PARALLEL = 8


def _parallel_tokens(stack: DemoStack, client: httpx.Client) -> list[tuple[int, float]]:
    def one(_: int) -> tuple[int, float]:
        started = time.perf_counter()
        answer = client.post(stack.token_url, data={"grant_type": "client_credentials"},
                             auth=("lockstep-demo", CLIENTS["lockstep-demo"].secret))
        return answer.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def auth_slow_signing(stack: DemoStack, client: httpx.Client) -> bool:
    """Signed one at a time at a deliberate cost: the last of 8 waits for the 7 before it."""
    answers = _parallel_tokens(stack, client)
    return all(status == 200 for status, _ in answers) and max(t for _, t in answers) >= (PARALLEL - 2) * SLOW_SIGNING_S


def auth_pool_exhausted(stack: DemoStack, client: httpx.Client) -> bool:
    """Beyond the pool's connections, token requests are answered 503 at once."""
    return any(status == 503 for status, _ in _parallel_tokens(stack, client))


PROBES = {"auth-slow-signing": auth_slow_signing, "auth-pool-exhausted": auth_pool_exhausted}
