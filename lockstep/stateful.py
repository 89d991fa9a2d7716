"""Stateful parity: write sequences from the document's links, run in lockstep on both targets.

Each target keeps its own variables: the id the legacy created feeds the legacy's next step, the
gateway's id the gateway's. The two ids pair up in an id map, so the gateway's answers are compared
with the legacy's after translating its ids. Each step is judged like a parity case (learned noise,
confirmation), except DELETE, which is sent once per target: a second would meet a deleted resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import strategies as st

from .checks.parity import Parity, reproducer
from .exchange import Exchange, build_request
from .findings import Finding

__all__ = ["Scenario", "scenarios_of", "Lockstep", "explore"]

_ORDER = {"GET": 0, "HEAD": 0, "PATCH": 1, "PUT": 2, "POST": 3, "DELETE": 4}


@dataclass(frozen=True)
class Step:
    operation_id: str
    parameters: tuple[tuple[str, str], ...] = ()  # (path parameter, expression on the first step's answer)


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    labels: tuple[str, ...]  # "POST /subscriptions", ... for messages

    @property
    def name(self) -> str:
        return " -> ".join(s.operation_id for s in self.steps)

    def __str__(self) -> str:
        return self.name


def scenarios_of(schema: Any, *, repeat_writes: int = 1) -> list[Scenario]:
    """One scenario per producing operation: create, then each linked read, write (each followed by a
    read, if the links offer one), delete last and a read after it."""
    found = []
    for result in schema.get_all_operations():
        op = result.ok() if type(result).__name__ == "Ok" else None
        if op is None:
            continue
        links = _links(op.definition.raw)
        if links:
            found.append(_scenario(schema, op, links, repeat_writes))
    return found


def _links(raw: dict[str, Any]) -> list[Step]:
    steps = []
    for status, response in (raw.get("responses") or {}).items():
        if str(status).startswith("2"):
            for link in (response.get("links") or {}).values():
                if "operationId" in link:
                    steps.append(Step(link["operationId"], tuple(sorted((link.get("parameters") or {}).items()))))
    return steps


def _scenario(schema: Any, producer: Any, links: list[Step], repeat: int) -> Scenario:
    method = {s.operation_id: schema.find_operation_by_id(s.operation_id).method.upper() for s in links}
    links = sorted(links, key=lambda s: _ORDER.get(method[s.operation_id], 5))
    reads = [s for s in links if method[s.operation_id] in ("GET", "HEAD")][:1]
    steps = [Step(producer.definition.raw["operationId"]), *reads]
    writes = [s for s in links if method[s.operation_id] not in ("GET", "HEAD", "DELETE")]
    for _ in range(repeat):
        for write in writes:
            steps += [write, *reads]
    steps += [s for s in links if method[s.operation_id] == "DELETE"] + reads
    labels = tuple(schema.find_operation_by_id(s.operation_id).label for s in steps)
    return Scenario(tuple(steps), labels)


@dataclass
class Run:
    """One execution of a scenario: each target's ids, the id map, what was sent (for reproducers)."""

    scenario: Scenario
    sent: dict[str, list[str]] = field(default_factory=lambda: {"legacy": [], "gateway": []})
    findings: list[Finding] = field(default_factory=list)
    pairs: dict[str, str] = field(default_factory=dict)  # gateway value -> legacy value, same resource
    extras: list[Any] = field(default_factory=list)  # the legacy's extra creates, removed at the end
    last_legacy: Any = None  # the legacy answer applied last (its values are what later reads see)


class Lockstep:
    def __init__(self, parity: Parity, schema: Any, *, reset: Callable[[], None] | None = None) -> None:
        self.parity, self.schema, self.reset = parity, schema, reset
        self.sequences = 0

    def run(self, scenario: Scenario, draw: Callable[[Any], Any]) -> Run:
        """Run every step on both targets; stop at the first step the two sides do not agree to go on from."""
        if self.reset:
            self.reset()
        run = Run(scenario)
        self.sequences += 1
        first_answers: dict[str, Any] = {}
        for index, step in enumerate(scenario.steps, start=1):
            op = self.schema.find_operation_by_id(step.operation_id)
            case = draw(op.as_strategy())
            ex, resend = self._send(case, step, run, first_answers)
            verdict = self.parity.judge(case, ex, resend, translate=run.pairs)
            _pair(run, self.parity.masks.get(ex.operation), ex)
            prefix = f"step {index} ({op.label}): "
            for finding in self.parity.findings_of(ex, verdict, flow="stateful", step=prefix):
                finding.message = f"{finding.message} — in sequence {scenario.name}"
                finding.reproducers = {t: "\n".join(lines) for t, lines in run.sent.items()}
                run.findings.append(finding)
            if index == 1:
                if not self._started(ex, run):
                    break
                first_answers = {"legacy": ex.legacy, "gateway": ex.gateway}
            elif ex.legacy.status != ex.gateway.status:
                break
        self._clean_up(run, draw)
        return run

    def _send(self, case: Any, step: Step, run: Run, first: dict[str, Any]) -> tuple[Exchange, Any]:
        """Gateway once; legacy twice, one after the other, so the last write applied is known
        (DELETE once: a second would meet a deleted resource)."""
        legacy, gateway = self.parity.legacy, self.parity.gateway
        method, creates = case.method.upper(), not first

        def to_legacy() -> Any:
            answer = legacy.send(self._request(case, step, legacy, first.get("legacy")))
            if creates:
                run.extras.append(answer)  # an extra legacy resource: removed when the sequence ends
            else:
                run.last_legacy = answer
            return answer

        pending = self.parity.exchanger.submit(gateway.send, self._request(case, step, gateway, first.get("gateway")))
        l1 = legacy.send(self._request(case, step, legacy, first.get("legacy")))
        run.last_legacy = l1
        l2 = l1 if method == "DELETE" else to_legacy()
        gw = pending.result()
        for answer in (l1, gw):
            run.sent[answer.target].append(reproducer(answer))
        return Exchange(case.operation.label, l1, l2, gw), None if method == "DELETE" else to_legacy

    @staticmethod
    def _request(case: Any, step: Step, target: Any, first_answer: Any) -> Any:
        for param, expression in step.parameters:
            case.path_parameters[param] = _evaluate(expression, first_answer)
        return build_request(case, target)

    def _clean_up(self, run: Run, draw: Callable[[Any], Any]) -> None:
        delete = next((s for s in run.scenario.steps
                       if self.schema.find_operation_by_id(s.operation_id).method.upper() == "DELETE"), None)
        if delete is None:
            return
        for extra in run.extras:
            if extra.ok and (extra.status or 500) < 300:
                case = draw(self.schema.find_operation_by_id(delete.operation_id).as_strategy())
                self.parity.legacy.send(self._request(case, delete, self.parity.legacy, extra))

    def _started(self, ex: Exchange, run: Run) -> bool:
        if not (ex.legacy.ok and ex.gateway.ok) or ex.legacy.status != ex.gateway.status:
            return False
        if ex.legacy.status is None or ex.legacy.status >= 300:
            return False  # neither side created anything: nothing to follow
        return True


def _pair(run: Run, mask: Any, ex: Exchange) -> None:
    """Values this step's noise mask covers (ids, timestamps) belong to each side's own resource:
    pair the gateway's with the legacy's so later steps compare them as the same."""
    if mask is None or not mask.values:
        return
    try:
        legacy, gateway = json.loads((run.last_legacy or ex.legacy).body), json.loads(ex.gateway.body)
    except ValueError:
        return
    for path in mask.values:
        for mine, theirs in zip(_at(gateway, path), _at(legacy, path)):
            if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs and len(mine) >= 6:
                run.pairs[mine] = theirs


def _at(value: Any, path: tuple) -> list[Any]:
    if not path:
        return [value]
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(value, list):
        return [v for item in value for v in _at(item, rest)]
    if isinstance(value, dict) and head in value:
        return _at(value[head], rest)
    return []


def _evaluate(expression: str, answer: Any) -> str:
    """`$response.body#/id` or `$response.header.Location` on one target's first answer."""
    if answer is None:
        return ""
    if expression.startswith("$response.body#"):
        value: Any = json.loads(answer.body)
        for part in expression.split("#", 1)[1].strip("/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            value = value[int(part)] if isinstance(value, list) else value.get(part)
        return str(value)
    if expression.startswith("$response.header."):
        return answer.headers.get(expression.split(".", 2)[2], "")
    return expression


def explore(lockstep: Lockstep, scenario: Scenario, *, runs: int, seed: int, on_run: Callable[[Run], None]) -> None:
    """Run `runs` sequences of `scenario`, each step's request drawn by Hypothesis from the document.

    Findings are collected, never raised: Hypothesis would stop at the first and shrink, and a user
    wants every distinct difference.
    """

    @hypothesis.settings(max_examples=runs, database=None, deadline=None, phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.seed(seed)
    @hypothesis.given(st.data())
    def sequence(data: st.DataObject) -> None:
        on_run(lockstep.run(scenario, data.draw))

    sequence()
