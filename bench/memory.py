"""`rss_growth_10k_cases_mb`: resident memory of lockstep's engine over many parity cases.

Drives the engine directly (no pytest): two lockstep Targets built from contracts/migration.yaml the way
lockstep.session does, one lockstep Judge, and `judge.case(case)` on explicit Schemathesis cases of
cheap GET operations (varied query strings and path ids, so bodies, noise masks and URLs vary). Prints
one JSON line: VmRSS after the warm-up (1,000 cases) and at the end, the cases done and the rate.

    LEGACY_URL=... GATEWAY_URL=... GATEWAY_TOKEN=... python bench/memory.py [--cases 10000]
        [--warmup 1000] [--deadline-s 120]

Bounded: stops at --cases or at --deadline-s, whichever comes first (the JSON says which).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402

from lockstep.engine.judge import Judge  # noqa: E402
from lockstep.engine.record import Recorder  # noqa: E402
from lockstep.contract import load_contract  # noqa: E402
from lockstep.findings import FindingBook, Rules  # noqa: E402
from lockstep.targets import Target  # noqa: E402


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def case_variants(schema: object) -> list[object]:
    """~1,000 distinct cheap GET cases (so 10,000 checks repeat each about ten times, as a long run would)."""
    recipes = schema["/recipes"]["GET"]  # type: ignore[index]
    recipe = schema["/recipes/{recipe_id}"]["GET"]  # type: ignore[index]
    words = ["salt", "pepper", "herb/garlic", "salt+pepper", "pasta", "rice", "lemon", "curry", "tofu", "soup",
             "x" * 40, "crème", "a b", "%", "quick", "veg", "fish", "beef", "bean", "pie"]
    tags = [[], ["vegetarian"], ["quick"], ["vegetarian", "quick"]]
    out: list[object] = []
    for word, page, per_page, tag in itertools.product(words, (1, 2, 3), (1, 5, 10, 50), tags):
        query: dict[str, object] = {"q": word, "page": page, "per_page": per_page}
        if tag:
            query["tag"] = tag
        out.append(recipes.Case(query=query))
    out += [recipe.Case(path_parameters={"recipe_id": f"r-{i:03d}"}) for i in range(0, 1000, 5)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--deadline-s", type=float, default=120.0)
    parser.add_argument("--contract", default=str(ROOT / "contracts" / "migration.yaml"))
    args = parser.parse_args(argv)
    for name in ("LEGACY_URL", "GATEWAY_URL", "GATEWAY_TOKEN"):
        if not os.environ.get(name):
            parser.error(f"{name} must be set (the demo stack's URLs and a gateway token)")

    contract = load_contract(args.contract)
    specs = contract.targets
    legacy = Target("legacy", specs.legacy)
    gateway = Target("gateway", specs.gateway, token=specs.gateway.auth.bearer.get_secret_value())
    book = FindingBook()
    parity = Judge(legacy, gateway, headers=contract.compare.headers,
                   max_body_bytes=contract.compare.max_body_bytes,
                   recorder=Recorder(Rules(contract.compare.ignore, contract.known_differences), book))
    schema = schemathesis.openapi.from_path(str(contract.spec_path))
    schema.config.update(base_url="http://lockstep.invalid")
    variants = case_variants(schema)

    started = time.monotonic()
    deadline = started + args.deadline_s
    rss_start = vm_rss_mb()
    rss_warm = None
    peak = rss_start
    done = 0
    judged = 0
    stopped_by = "cases"
    for done, case in enumerate(itertools.islice(itertools.cycle(variants), args.cases), start=1):
        outcome = parity.case(case)
        judged += outcome.judged
        if done % 250 == 0:
            peak = max(peak, vm_rss_mb())
        if done == args.warmup:
            gc.collect()
            rss_warm = vm_rss_mb()
            warm_at = time.monotonic()
        if time.monotonic() > deadline:
            stopped_by = "deadline"
            break
    gc.collect()
    rss_end = vm_rss_mb()
    elapsed = time.monotonic() - started
    parity.close()
    legacy.close()
    gateway.close()
    after_warm = done - args.warmup if rss_warm is not None else 0
    result = {
        "cases_done": done, "stopped_by": stopped_by, "seconds": round(elapsed, 1),
        "cases_per_s": round(done / elapsed, 1) if elapsed else None,
        "rss_start_mb": round(rss_start, 1), "rss_after_warmup_mb": round(rss_warm, 1) if rss_warm else None,
        "rss_end_mb": round(rss_end, 1), "rss_peak_mb": round(max(peak, rss_end), 1),
        "growth_mb": round(rss_end - rss_warm, 1) if rss_warm else None,
        "growth_per_10k_mb": round((rss_end - rss_warm) * 10_000 / after_warm, 1) if after_warm > 0 else None,
        "variants": len(variants), "judged": judged,
        "findings": len(book.all()), "masks": len(parity.masks),
        "warmup_s": round(warm_at - started, 1) if rss_warm else None,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
