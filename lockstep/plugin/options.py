"""lockstep's command-line options, and the run they describe: settings, document, operations."""

from __future__ import annotations

from typing import Any

import pytest

from ..operations import Operation, operations_of
from ..session import LockstepSession
from ..settings import Settings, resolve_settings
from ..spec import credential_probe, load_spec
from ..stateful import inferred_links
from .state import RunState

__all__ = ["add_options", "build_state", "MARKERS"]

MARKERS = {
    "parity": "gateway answers compared with the legacy's (Schemathesis cases)",
    "cors": "preflights and actual answers checked against the declared CORS policy",
    "auth": "token and header edge cases against the spec's security requirements",
    "stateful": "write sequences run in lockstep on both targets",
    "routes": "every operation routed; private paths unreachable; aliases",
    "latency": "the gateway's latency overhead per operation",
    "har": "recorded requests (a HAR file) replayed through the parity comparison",
    "load": "the auth path under load (Locust): runs only when -m names it",
}

_OPTIONS: list[tuple[str, str, str, str]] = [  # flag, dest, metavar, help
    ("--contract", "lockstep_contract", "PATH",
     "the migration contract (default: $LOCKSTEP_CONTRACT, then contracts/migration.yaml)"),
    ("--legacy-url", "lockstep_legacy_url", "URL",
     "the legacy API's base URL (default: the contract's; 'demo' starts the demo stack)"),
    ("--gateway-url", "lockstep_gateway_url", "URL", "the gateway's base URL, prefix included (default: the contract's)"),
    ("--profile", "lockstep_profile", "NAME", "smoke, staging or deep, or one the contract defines (default: "
     "$LOCKSTEP_PROFILE, then the contract's `profile`, then staging)"),
    ("--lockstep-seed", "lockstep_seed", "N",
     "the generation seed (default: $LOCKSTEP_SEED, then the contract's, then random; printed)"),
    ("--max-examples", "lockstep_max_examples", "N", "generated cases per operation (default: the profile's)"),
    ("--demo-faults", "lockstep_demo_faults", "A,B",
     "start the embedded demo gateway with these faults (see python -m lockstep.demo --help)"),
    ("--demo-gateway", "lockstep_demo_gateway", "KIND",
     "the embedded demo's gateway: python (default) or nginx (a real nginx with njs; $LOCKSTEP_DEMO_GATEWAY)"),
    ("--demo-rate-limit", "lockstep_demo_rate_limit", "N/s",
     "the demo gateway's per-route rate limit (default: the document's x-rate-limit)"),
    ("--cors-browser", "lockstep_cors_browser", "",
     "replay each CORS finding in headless Chromium: a finding the browser does not confirm becomes a note "
     "(or the contract's `cors: {browser: true}`)"),
    ("--har", "lockstep_har", "FILE",
     "replay the requests of this HAR file through the parity comparison (default: the contract's `har`)"),
]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("lockstep", "lockstep: gateway vs legacy contract tests")
    for flag, dest, metavar, text in _OPTIONS:
        kind: dict[str, Any] = {"type": int} if flag == "--max-examples" else {}
        if not metavar:  # a switch
            group.addoption(flag, dest=dest, action="store_true", default=False, help=text)
            continue
        group.addoption(flag, dest=dest, metavar=metavar, help=text, **kind)
    group.addoption("--reports", dest="lockstep_reports", metavar="DIR", default="reports",
                    help="where summary.json, junit.xml and allure-results go (default: reports)")
    group.addoption("--load-workers", dest="lockstep_load_workers", metavar="N", type=int, default=0,
                    help="the load flow's Locust: a master and N local worker processes (default 0: one process)")


def _settings(config: pytest.Config) -> Settings:
    opt = config.option
    seed = opt.lockstep_seed
    handed = getattr(config, "workerinput", {}).get("lockstep_seed")
    if handed is not None:  # an xdist worker: the controller chose the seed once
        seed = str(handed)
    settings = resolve_settings(contract=opt.lockstep_contract, legacy_url=opt.lockstep_legacy_url,
                                gateway_url=opt.lockstep_gateway_url, profile=opt.lockstep_profile, seed=seed,
                                demo_faults=opt.lockstep_demo_faults, max_examples=opt.lockstep_max_examples,
                                demo_rate_limit=opt.lockstep_demo_rate_limit, demo_gateway=opt.lockstep_demo_gateway,
                                reports=opt.lockstep_reports)
    if handed is not None:
        settings.sources["seed"] = getattr(config, "workerinput", {}).get("lockstep_seed_source", "controller")
    return settings


def selected_operations(settings: Settings, document: dict[str, Any]) -> list[Operation]:
    """The document's operations this run tests: the contract's `operations` selection, then the profile's methods."""
    methods = {m.upper() for m in settings.profile.methods or ()}
    selection = settings.contract.operations
    return [op for op in operations_of(document)
            if selection.selects(op) and (not methods or op.method in methods)]


def build_state(config: pytest.Config) -> RunState:
    """Everything a run needs before its first test; raises LockstepError (a usage error, exit 4)."""
    from ..har import load_plan as load_har_plan

    settings = _settings(config)
    schema = load_spec(settings)
    document = schema.raw_schema
    every = operations_of(document)
    operations = selected_operations(settings, document)
    labels = {op.label for op in operations}
    if len(operations) != len(every):
        schema = schema.include(func=lambda ctx: f"{ctx.operation.method.upper()} {ctx.operation.path}" in labels)
    session = LockstepSession(settings, every, credential_probe=credential_probe(document, operations))
    state = RunState(settings, schema, operations, session)
    state.har = load_har_plan(config.option.lockstep_har, settings, document)
    if settings.profile.sequences and "stateful" in (config.option.markexpr or "stateful"):
        state.inferred_links = inferred_links(schema)
    if state.har is not None:
        session.ledger.flow("har")["plan"] = state.har.figure()
    return state
