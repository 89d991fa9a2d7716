"""Where a parity run's time goes, from a pyinstrument session (`pyinstrument -r session -o FILE`).

`breakdown(session_file, cases)` returns a small table (seconds and ms a case for the parts that
matter: start-up, generation, sending, judging, reports) and the functions that take at least 1% of the
run, by inclusive time (pytest/pluggy plumbing left out). Used by `bench/run.py --profile`;
standalone:

    .venv/bin/python -m pyinstrument -r session -o /tmp/p.pyisession -m pytest suites/test_parity.py ...
    .venv/bin/python bench/profile_parity.py /tmp/p.pyisession CASES
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyinstrument.session import Session

SHOWN = ("/lockstep/", "/schemathesis/", "/hypothesis/", "/deepdiff/", "/yaml/", "/requests/", "/httpx/",
         "/jsonschema/", "/concurrent/futures/", "/allure", "/_pytest/junitxml", "/_pytest/python.py",
         "/_pytest/runner.py", "/suites/", "/bench/", "/referencing/", "/pydantic/", "threading.py")

# (label, predicate on a frame); time = sum over the outermost matching frames (no double counting)
PARTS: list[tuple[str, Callable[[Any], bool]]] = []


def _fn(name: str, path_part: str) -> Callable[[Any], bool]:
    return lambda f: (f.function == name or f.function.endswith("." + name)) and path_part in (f.file_path or "")


PARTS = [
    ("start-up: lockstep pytest_configure (settings, load_spec)", _fn("pytest_configure", "lockstep/pytest_plugin")),
    ("  of which Schemathesis from_path (document load)", _fn("from_path", "schemathesis/openapi/loaders")),
    ("collection (pytest + Schemathesis parametrize)", _fn("pytest_collection", "_pytest/main")),
    ("test phase (pytest runtestprotocol)", _fn("runtestprotocol", "_pytest/runner")),
    ("  lockstep parity_check (per case)", _fn("check", "lockstep/plugin/fixtures")),
    ("    Judge.case", _fn("case", "lockstep/engine/judge")),
    ("      Exchanger.run (sending)", _fn("run", "lockstep/exchange")),
    ("        build_request", _fn("build_request", "lockstep/exchange")),
    ("        ThreadPoolExecutor.submit", _fn("submit", "concurrent/futures/thread")),
    ("        Future.result (waiting for answers)", _fn("result", "concurrent/futures/_base")),
    ("      Judge.judge", _fn("judge", "lockstep/engine/judge")),
    ("        conformance_failures", _fn("conformance_failures", "lockstep/engine/conformance")),
    ("          _as_response", _fn("_as_response", "lockstep/engine/conformance")),
    ("        NoiseMask.learn", _fn("learn", "lockstep/noise")),
    ("        compare", _fn("compare", "lockstep/compare")),
    ("        DeepDiff (noise + compare)", _fn("__init__", "deepdiff/diff")),
    ("        view_of (parse bodies)", _fn("view_of", "lockstep/views")),
    ("  allure attachments", lambda f: "/allure" in (f.file_path or "")),
    ("sessionfinish (summary, junit)", _fn("pytest_sessionfinish", "lockstep/pytest_plugin")),  # _RunHooks there
]


def _outermost(frame: Any, match: Callable[[Any], bool]) -> float:
    if match(frame):
        return frame.time
    return sum(_outermost(child, match) for child in frame.children)


def _shown(frame: Any) -> bool:
    path = frame.file_path or ""
    return any(part in path for part in SHOWN) and "/pyinstrument/" not in path


def _inclusive(frame: Any, totals: dict[tuple[str, str, int], float], stack: set) -> None:
    """Inclusive time per function, counted at its outermost call only (recursion is not double counted)."""
    for child in frame.children:
        key = (child.function, child.file_path or "", child.line_no or 0)
        fresh = key not in stack and _shown(child)
        if fresh:
            totals[key] = totals.get(key, 0.0) + child.time
            stack.add(key)
        _inclusive(child, totals, stack)
        if fresh:
            stack.discard(key)


_PLUMBING_FILES = ("/_pytest/", "hypothesis/core.py", "conjecture/engine.py", "threading.py", "/pluggy/",
                   "hypothesis/control.py", "schemathesis/schemas.py", "hypothesis/builder.py", "suites/")


def _plumbing(function: str, path: str, line: int) -> bool:
    return function.startswith("<") or any(part in path for part in _PLUMBING_FILES)


def _top(root: Any, total: float, cases: int, limit: int = 45, min_share: float = 0.01) -> Iterator[str]:
    totals: dict[tuple[str, str, int], float] = {}
    _inclusive(root, totals, set())
    yield f"{'seconds':>8s} {'share':>6s} {'ms/case':>8s}  function (file:line)"
    ranked = sorted(((k, v) for k, v in totals.items() if not _plumbing(*k)), key=lambda kv: -kv[1])
    for (function, path, line), seconds in [kv for kv in ranked if kv[1] >= total * min_share][:limit]:
        where = path.split("site-packages/")[-1].split("/work/main/")[-1]
        yield f"{seconds:8.2f} {100 * seconds / total:5.1f}% {1000 * seconds / max(cases, 1):8.2f}  {function}  ({where}:{line})"


def breakdown(session_file: Path, cases: int) -> tuple[dict[str, Any], str]:
    session = Session.load(str(session_file))
    root = session.root_frame()
    total = root.time if root else 0.0
    table: dict[str, Any] = {"total_s": round(total, 3), "cases": cases}
    lines = [f"pyinstrument (wall clock, sampled) of one parity run: {total:.2f} s, {cases} cases",
             f"{'part':62s} {'seconds':>8s} {'ms/case':>8s}"]
    test_phase = check = 0.0
    for label, match in PARTS:
        seconds = _outermost(root, match) if root else 0.0
        table[label.strip()] = round(seconds, 3)
        if label.startswith("test phase"):
            test_phase = seconds
        if label.strip().startswith("lockstep parity_check"):
            check = seconds
        lines.append(f"{label:62s} {seconds:8.2f} {1000 * seconds / max(cases, 1):8.2f}")
    generation = test_phase - check
    table["test phase minus parity_check (generation, Hypothesis, pytest per test)"] = round(generation, 3)
    lines.append(f"{'  test phase minus parity_check (generation, Hypothesis, ...)':62s} {generation:8.2f} "
                 f"{1000 * generation / max(cases, 1):8.2f}")
    lines += ["", "inclusive time by function (outermost calls; pytest/pluggy plumbing left out; >= 1% of the run):"]
    lines += list(_top(root, total, cases)) if root else []
    return table, "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: profile_parity.py SESSION_FILE CASES")
    print(breakdown(Path(sys.argv[1]), int(sys.argv[2]))[1])
