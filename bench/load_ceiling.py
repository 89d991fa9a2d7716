"""`load_generator_ceiling_rps`: the highest request rate one Locust process (lockstep's load flow, as it
runs) sustains against a no-op loopback server on this machine, so users know what one box can offer.

The no-op server is a raw asyncio protocol in its own process (`--serve`): it answers every request it
reads with a fixed 200 at once, so the load generator, not the server, is the limit. The load flow's
own plan and runner drive it: each step offers N request pairs a second (N to the "gateway" and N to the
"legacy" side, both the server), no token stream; the figure is the highest step whose achieved rate
(both sides together) is at least SUSTAINED of what was offered. With `workers`, a master and that many
local workers run the same steps (`load_workers_<n>_ceiling_rps`).

    .venv/bin/python bench/load_ceiling.py              # both figures, printed as name=value
    .venv/bin/python bench/load_ceiling.py --serve      # the no-op server alone (prints its URL)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lockstep.contract import LoadSpec  # noqa: E402
from lockstep.load.model import steps_of  # noqa: E402
from lockstep.load.plan import SETTLE_S, LoadPlan  # noqa: E402
from lockstep.load.runner import run_locust  # noqa: E402

SUSTAINED = 0.95
STEPS = [100, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]  # request pairs/s: twice as many requests
STEP_S = 4.0
_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class _NoOp(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")  # GETs without bodies: one request per header block
        if count:
            self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4:]
            self.transport.write(_ANSWER * count)


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_NoOp, "127.0.0.1", 0, backlog=4096)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    parent = os.getppid()
    while os.getppid() == parent:  # gone with the benchmark
        await asyncio.sleep(0.5)


def _plan(url: str, steps: list[int], seconds: float) -> LoadPlan:
    spec = LoadSpec(rate=f"{steps[-1]}/s", duration=seconds, ramp=steps, step_duration=seconds,
                    operations=["GET /noop"])
    planned = steps_of(spec)
    data = {"gateway": {"base_url": url + "/gateway", "verify": True}, "legacy": {"base_url": url + "/legacy",
            "verify": True}, "token": None, "operations": [{"label": "GET /noop", "method": "GET", "path": "/noop"}],
            "steps": [s.to_dict() for s in planned], "token_ratio": 0.0, "settle_s": SETTLE_S,
            "timeouts": {"connect": 5, "read": 5}, "error_rate": 0.01}
    return LoadPlan(spec, planned, data, {"gateway_headers": {}, "legacy_headers": {}})


def measure(url: str, workers: int, steps: list[int] = STEPS, seconds: float = STEP_S) -> dict[str, Any]:
    """Per step: offered and achieved requests/s (both sides); the ceiling: the highest sustained."""
    run = run_locust(_plan(url, steps, seconds), workers=workers)
    rows, ceiling = [], 0.0
    for step in run.results["steps"]:
        achieved = round(step["gateway"]["achieved_rps"] + step["legacy"]["achieved_rps"], 1)
        offered = 2 * step["rate"]
        rows.append({"offered_rps": offered, "achieved_rps": achieved, "p95_ms": step["gateway"]["p95_ms"],
                     "errors": step["gateway"]["failures"] + step["legacy"]["failures"]})
        if achieved >= SUSTAINED * offered:
            ceiling = max(ceiling, achieved)
    return {"ceiling_rps": ceiling, "max_achieved_rps": max((r["achieved_rps"] for r in rows), default=0.0),
            "steps": rows, "cpu_warning": run.results.get("cpu_warning"), "workers": workers}


def bench_load(figures: dict[str, Any], details: dict[str, Any], workers: tuple[int, ...] = (0, 2),
               log: Any = print) -> None:
    """The figures for bench/run.py: one process, then a master with local workers, same steps."""
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        for n in workers:
            result = measure(url, n)
            name = "load_generator_ceiling_rps" if n == 0 else f"load_workers_{n}_ceiling_rps"
            figures[name] = result["ceiling_rps"]
            details[name] = result
            log(f"load: {'one Locust process' if n == 0 else f'a master and {n} workers'}: sustained "
                f"{result['ceiling_rps']:g} requests/s (at most {result['max_achieved_rps']:g} achieved)")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/load_ceiling.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="run the no-op server alone")
    parser.add_argument("--workers", default="0,2", help="comma list: 0 = one process (default 0,2)")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return 0
    figures: dict[str, Any] = {}
    details: dict[str, Any] = {}
    bench_load(figures, details, tuple(int(w) for w in args.workers.split(",")),
               log=lambda m: print(m, file=sys.stderr))
    for name, value in figures.items():
        print(f"{name}={value}")
    for name, result in details.items():
        print(f"{name}: " + ", ".join(f"{r['offered_rps']:g}->{r['achieved_rps']:g}" for r in result["steps"]),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
