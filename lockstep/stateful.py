"""Stateful parity: write sequences from the document's links, run in lockstep on both targets.

Where a create declares no OpenAPI link, the links Schemathesis infers are used (its dependency
analysis of response schemas and path parameters: `POST /subscriptions` answers an `id`, which
`GET /subscriptions/{subscription_id}` takes), and failing that the `Location` header the create's
answer declares. Declared links win: an operation that declares any gets no inferred one.

Each target keeps its own variables: the id the legacy created feeds the legacy's next step, the
gateway's id the gateway's. The two ids pair up in an id map, so the gateway's answers are compared
with the legacy's after translating its ids. Each step is judged like a parity case (learned noise,
confirmation), except DELETE, which is sent once per target: a second would meet a deleted resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import strategies as st

from .engine.judge import Judge, reproducer
from .exchange import Exchange, build_request
from .findings import Finding

__all__ = ["Scenario", "Step", "scenarios_of", "inferred_links", "Lockstep", "explore"]

_ORDER = {"GET": 0, "HEAD": 0, "PATCH": 1, "PUT": 2, "POST": 3, "DELETE": 4}
_LOCATIONS = ("path.", "query.", "header.", "cookie.")


@dataclass(frozen=True)
class Step:
    label: str  # "GET /subscriptions/{subscription_id}"
    parameters: tuple[tuple[str, str], ...] = ()  # (path parameter, expression on the first step's answer)
    name: str = ""  # the operationId, if the document gives one

    @property
    def method(self) -> str:
        return self.label.split(" ", 1)[0]


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    labels: tuple[str, ...]  # "POST /subscriptions", ... for messages
    inferred: bool = False  # its links were inferred, not declared

    @property
    def name(self) -> str:
        return " -> ".join(s.name or s.label for s in self.steps)

    def __str__(self) -> str:
        return self.name


def scenarios_of(schema: Any, *, repeat_writes: int = 1) -> list[Scenario]:
    """One scenario per producing operation: create, then each linked read, write (each followed by a
    read, if the links offer one), delete last and a read after it. Links the document declares, else
    inferred ones (creates only)."""
    found, inferred = [], _inferred_steps(schema)
    for op in _operations(schema):
        links = _declared(schema, op.definition.raw)
        if links:
            found.append(_scenario(op, links, repeat_writes, inferred=False))
        elif op.label in inferred:
            found.append(_scenario(op, inferred[op.label], repeat_writes, inferred=True))
    return found


def inferred_links(schema: Any) -> list[str]:
    """The inferred links the scenarios follow, for the run header:
    'POST /subscriptions -> GET /subscriptions/{subscription_id} (subscription_id from $response.body#/id)'."""
    declared = {op.label for op in _operations(schema) if _declared(schema, op.definition.raw)}
    lines = []
    for producer, steps in _inferred_steps(schema).items():
        if producer in declared:
            continue
        for step in steps:
            sources = ", ".join(f"{p} from {e.split('#regex:', 1)[0]}" for p, e in step.parameters)
            lines.append(f"{producer} -> {step.label}" + (f" ({sources})" if sources else ""))
    return lines


def _operations(schema: Any) -> list[Any]:
    return [r.ok() for r in schema.get_all_operations() if type(r).__name__ == "Ok"]


def _declared(schema: Any, raw: dict[str, Any]) -> list[Step]:
    steps = []
    for status, response in (raw.get("responses") or {}).items():
        if not str(status).startswith("2"):
            continue
        for link in (response.get("links") or {}).values():
            target = _link_target(schema, link)
            if target is not None:
                steps.append(_step(target, link.get("parameters") or {}))
    return steps


def _link_target(schema: Any, link: dict[str, Any]) -> Any:
    try:
        if "operationId" in link:
            return schema.find_operation_by_id(link["operationId"])
        if str(link.get("operationRef", "")).startswith("#/"):
            return schema.find_operation_by_reference(link["operationRef"])
    except Exception:  # a dangling link: Schemathesis reports it in its own stateful phase
        return None
    return None


def _step(op: Any, parameters: dict[str, Any]) -> Step:
    params = []
    for name, expression in parameters.items():
        if isinstance(expression, str) and (name.startswith("path.") or not name.startswith(_LOCATIONS)):
            params.append((name.split(".", 1)[1] if name.startswith("path.") else name, expression))
    return Step(op.label, tuple(sorted(params)), op.definition.raw.get("operationId") or "")


def _inferred_steps(schema: Any) -> dict[str, list[Step]]:
    """Producer label -> steps on the resource it creates (`POST /x` -> `/x/{id}`), cached per schema."""
    cached = _INFERRED.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    found: dict[str, dict[str, Step]] = {}
    for producer, target, parameters in _dependency_links(schema):
        if producer.method.upper() == "POST" and _item_of(producer.path, target.path):
            found.setdefault(producer.label, {}).setdefault(target.label, _step(target, parameters))
    for op in _operations(schema):
        if op.method.upper() == "POST" and op.label not in found:
            for target, parameters in _location_links(schema, op):
                found.setdefault(op.label, {}).setdefault(target.label, _step(target, parameters))
    result = {label: list(steps.values()) for label, steps in found.items()}
    _INFERRED.clear()  # one schema per run; tests load many
    _INFERRED[id(schema)] = (schema, result)
    return result


_INFERRED: dict[int, tuple[Any, dict[str, list[Step]]]] = {}


def _dependency_links(schema: Any) -> list[tuple[Any, Any, dict[str, Any]]]:
    """Schemathesis's dependency analysis (`schema.analysis.dependency_graph`, the links
    `as_state_machine()` injects), as (producer, target, parameters) of its 2xx links."""
    try:
        response_links = list(schema.analysis.dependency_graph.iter_links())
    except Exception:  # semi-internal API: a document it cannot analyse simply gets no inferred link
        return []
    out = []
    for entry in response_links:
        if not str(entry.status_code).startswith("2"):
            continue
        try:
            producer = schema.find_operation_by_reference(entry.producer_operation_ref)
        except Exception:
            continue
        for definition in entry.links.values():
            link = definition.to_openapi()
            target = _link_target(schema, link)
            if target is not None:
                out.append((producer, target, link.get("parameters") or {}))
    return out


def _location_links(schema: Any, producer: Any) -> list[tuple[Any, dict[str, str]]]:
    """A create whose 2xx answer declares `Location`: the item path it names takes the last segment."""
    declares = any(str(status).startswith("2") and "location" in {h.lower() for h in (r.get("headers") or {})}
                   for status, r in (producer.definition.raw.get("responses") or {}).items())
    if not declares:
        return []
    collection = producer.path.rstrip("/")
    out = []
    for op in _operations(schema):
        param = _item_of(producer.path, op.path)
        if param:
            pattern = re.escape(collection) + r"/([^/?#]+)/?(?:[?#].*)?$"
            out.append((op, {f"path.{param}": f"$response.header.Location#regex:{pattern}"}))
    return out


def _item_of(collection: str, path: str) -> str | None:
    """`/x/{id}` under `/x`: the parameter name; None for anything else."""
    match = re.fullmatch(re.escape(collection.rstrip("/")) + r"/\{([^}/]+)\}", path)
    return match.group(1) if match else None


def _scenario(producer: Any, links: list[Step], repeat: int, *, inferred: bool) -> Scenario:
    links = sorted(links, key=lambda s: _ORDER.get(s.method, 5))
    reads = [s for s in links if s.method in ("GET", "HEAD")][:1]
    steps = [Step(producer.label, (), producer.definition.raw.get("operationId") or ""), *reads]
    writes = [s for s in links if s.method not in ("GET", "HEAD", "DELETE")]
    for _ in range(repeat):
        for write in writes:
            steps += [write, *reads]
    deletes = [s for s in links if s.method == "DELETE"]
    steps += deletes + (reads if deletes else [])
    return Scenario(tuple(steps), tuple(s.label for s in steps), inferred)


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
    def __init__(self, parity: Judge, schema: Any, *, reset: Callable[[], None] | None = None) -> None:
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
            op = self.schema.find_operation_by_label(step.label)
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
        delete = next((s for s in run.scenario.steps if s.method == "DELETE"), None)
        if delete is None:
            return
        for extra in run.extras:
            if extra.ok and (extra.status or 500) < 300:
                case = draw(self.schema.find_operation_by_label(delete.label).as_strategy())
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
    """`$response.body#/id`, `$response.body#/items/*/id` (the first item's) or `$response.header.Location`
    on one target's first answer; `…#regex:PATTERN` keeps the first group (Schemathesis's form for a
    `Location` link). What the answer does not have evaluates to ""."""
    if answer is None:
        return ""
    expression, _, pattern = expression.partition("#regex:")
    value: Any = expression
    if expression.startswith("$response.body#"):
        try:
            value = json.loads(answer.body)
        except ValueError:
            return ""
        for part in expression.split("#", 1)[1].strip("/").split("/"):
            value = _child(value, part.replace("~1", "/").replace("~0", "~"))
    elif expression.startswith("$response.header."):
        value = answer.headers.get(expression.split(".", 2)[2], "")
    text = "" if value is None else str(value)
    if pattern:
        match = re.search(pattern, text)
        text = (match.group(1) if match.groups() else match.group(0)) if match else ""
    return text


def _child(value: Any, part: str) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and value:
        if part == "*":
            return value[0]
        if part.isdigit() and int(part) < len(value):
            return value[int(part)]
    return None


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
