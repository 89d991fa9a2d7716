"""The plan Locust runs: what to send where, and the steps. Secrets stay out of it.

The plan is a JSON file (no secret in it: URLs, the operations' example requests, the steps) read by
lockstep/load/locustfile.py; the secrets (each target's headers with its token, the token URL's client
credentials) travel in one environment variable of the Locust processes, never on a command line and
never in a report. Before any load, `at_rest` sends each request once, quietly: an operation whose
example does not succeed at rest cannot say anything under load (and the gateway's key cache warms up).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..contract import LoadSpec
from ..targets import Target
from .model import Step, steps_of, token_ratio

__all__ = ["LoadPlan", "build_plan", "token_source", "at_rest", "PlanError", "READ_TIMEOUT_CAP_S", "LoadTargets"]

READ_TIMEOUT_CAP_S = 10.0  # under load, an answer slower than this is a failure (`transport` timeout)
SETTLE_S = 1.0  # the first second of each step adds users: not judged


class PlanError(Exception):
    """The load cannot be planned as the contract asks (one line: what to change)."""


@dataclass
class LoadPlan:
    spec: LoadSpec
    steps: list[Step]
    data: dict[str, Any]  # what the locustfile reads (written as JSON)
    secrets: dict[str, Any] = field(repr=False, default_factory=dict)  # environment only
    token_note: str | None = None  # why the token service is not loaded, if it is not

    def write(self, folder: Path) -> Path:
        path = folder / "plan.json"
        path.write_text(json.dumps({**self.data, "results_dir": str(folder)}, indent=1), encoding="utf-8")
        os.chmod(path, 0o600)
        return path

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


@dataclass(frozen=True)
class LoadTargets:
    """What the load flow needs of a run: the contract, the document's operations, the two targets (started),
    and the embedded demo's token URL and client (id, secret) when the gateway is the demo's."""

    contract: Any
    operations: list[Any]
    legacy: Target
    gateway: Target
    demo_token_url: str | None = None
    demo_client: tuple[str, str] | None = None


def token_source(targets: LoadTargets) -> tuple[dict[str, Any] | None, dict[str, str], str | None]:
    """(where token requests go, their client credentials, why none): the gateway's client-credentials auth,
    else the embedded demo's auth service with its own client."""
    auth = targets.contract.targets.gateway.auth
    if auth is not None and auth.token_url and auth.client_id and auth.client_secret:
        return ({"url": auth.token_url, "scope": auth.scope, "label": _label(auth.token_url)},
                {"client_id": auth.client_id, "client_secret": auth.client_secret.get_secret_value()}, None)
    if targets.demo_token_url and targets.demo_client is not None:
        url, client = targets.demo_token_url, targets.demo_client
        return ({"url": url, "scope": None, "label": _label(url)},
                {"client_id": client[0], "client_secret": client[1]}, None)
    return None, {}, ("the gateway's auth has no token URL (a static bearer token): the token service is not "
                      "loaded; give targets.gateway.auth token_url, client_id and client_secret to load it")


def _label(url: str) -> str:
    return f"POST {urlsplit(url).path or '/'}"


def build_plan(targets: LoadTargets, spec: LoadSpec) -> LoadPlan:
    """The contract's operations are picked from the document's by label (lockstep.load.model.check_operations
    has checked they exist)."""
    by_label = {op.label: op for op in targets.operations}
    chosen = [by_label[label] for label in spec.operations]
    legacy, gateway = targets.legacy, targets.gateway
    token, credentials, note = token_source(targets) if spec.token_rate else (None, {}, None)
    timeouts = gateway.spec.timeout
    data = {
        "gateway": {"base_url": gateway.base_url, "verify": gateway.spec.verify},
        "legacy": {"base_url": legacy.base_url, "verify": legacy.spec.verify},
        "token": token,
        "operations": [{"label": op.label, "method": op.method, "path": op.example_path} for op in chosen],
        "steps": [s.to_dict() for s in steps_of(spec)],
        "token_ratio": token_ratio(spec) if token else 0.0,
        "settle_s": SETTLE_S,
        "timeouts": {"connect": timeouts.connect, "read": min(timeouts.read, READ_TIMEOUT_CAP_S)},
        "error_rate": spec.budget.error_rate,
    }
    if token is None:
        data["steps"] = [{**s, "token_rate": 0.0} for s in data["steps"]]
    secrets = {"gateway_headers": gateway.headers, "legacy_headers": legacy.headers, **credentials}
    return LoadPlan(spec, [Step(**s) for s in data["steps"]], data, secrets, note)


def at_rest(plan: LoadPlan, targets: LoadTargets) -> list[str]:
    """One quiet request per operation and target, and one token request: what failed (empty: all fine)."""
    problems = []
    for op in plan.data["operations"]:
        for target in (targets.legacy, targets.gateway):
            request = target.client.build_request(op["method"], target.base_url + op["path"], headers=target.headers)
            answer = target.send(request)
            if not answer.ok or not 200 <= (answer.status or 0) < 400:
                problems.append(f"{op['label']} answers {answer.status or answer.error} at rest on {target.name}")
    token = plan.data["token"]
    if token is not None:
        problem = _token_at_rest(token, plan.secrets, targets.gateway.spec.verify)
        if problem:
            problems.append(problem)
    return problems


def _token_at_rest(token: dict[str, Any], secrets: dict[str, Any], verify: bool | str) -> str | None:
    form = {"grant_type": "client_credentials", **({"scope": token["scope"]} if token.get("scope") else {})}
    try:
        answer = httpx.post(token["url"], data=form, auth=(secrets["client_id"], secrets["client_secret"]),
                            timeout=15, verify=verify, trust_env=False)
    except httpx.HTTPError as exc:
        return f"the token URL {token['url']} does not answer at rest: {type(exc).__name__}"
    if answer.status_code != 200:
        return f"the token URL {token['url']} answers {answer.status_code} at rest to the client credentials"
    return None
