"""Every run setting resolved once, with where it came from: option > environment > contract > default."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from .contract import DEMO, Contract, Profile, check_target_url, load_contract
from .errors import ContractError
from .rates import parse_rate

__all__ = ["Settings", "resolve_settings", "DEFAULT_CONTRACT"]

DEFAULT_CONTRACT = "contracts/migration.yaml"
DEMO_GATEWAYS = ("python", "nginx")


@dataclass
class Settings:
    contract: Contract
    contract_path: Path
    profile_name: str
    profile: Profile
    seed: int
    legacy_url: str
    gateway_url: str
    demo_faults: tuple[str, ...] = ()
    max_examples: int | None = None
    demo_rate_limit: str | None = None
    demo_gateway: str = "python"  # the embedded demo's gateway: python (ours) or nginx (a real one)
    sources: dict[str, str] = field(default_factory=dict)
    reports: Path | None = None  # where summary.json, junit.xml and allure-results go (checked usable)

    @property
    def examples(self) -> int:
        """Generated cases per operation: --max-examples, else the profile's."""
        return self.max_examples if self.max_examples is not None else self.profile.max_examples

    @property
    def uses_demo(self) -> bool:
        return DEMO in (self.legacy_url, self.gateway_url)

    def header_lines(self) -> list[str]:
        s = self.sources
        faults = f", faults: {', '.join(self.demo_faults)}" if self.demo_faults else ""
        if self.uses_demo:
            faults += f"; demo gateway {self.demo_gateway}"
        return [
            f"lockstep: contract {self.contract_path} ({s['contract']})",
            f"lockstep: profile {self.profile_name} ({s['profile']}); seed {self.seed} ({s['seed']}); "
            f"max examples {self.examples}; "
            f"safe methods only: {'yes' if self.profile.methods and set(self.profile.methods) <= {'GET', 'HEAD', 'OPTIONS'} else 'no'}",
            f"lockstep: legacy {self.legacy_url} ({s['legacy']}); gateway {self.gateway_url} ({s['gateway']}){faults}",
        ]


def _pick(option: str | None, env_name: str, contract_value: object, default: object, env: dict[str, str],
          label: str) -> tuple[object, str]:
    if option not in (None, ""):
        return option, f"option --{label}"
    if env.get(env_name):
        return env[env_name], f"environment {env_name}"
    if contract_value is not None:
        return contract_value, "contract"
    return default, "default"


def _faults(text: str | None) -> tuple[str, ...]:
    from .demo.faults import UnknownFaultError, validate_faults  # names only: no servers imported

    try:
        return validate_faults(f.strip() for f in (text or "").split(",") if f.strip())
    except UnknownFaultError as exc:
        raise ContractError(str(exc), where="--demo-faults") from None


def _check_options(max_examples: int | None, demo_rate_limit: str | None, reports: str | Path | None) -> None:
    """Options a user typed, checked before anything starts: one line naming the option each."""
    if max_examples is not None and max_examples < 1:
        raise ContractError(f"must be 1 or more (generated cases per operation), got {max_examples}",
                            where="--max-examples")
    if demo_rate_limit is not None:
        try:
            parse_rate(demo_rate_limit)
        except ValueError as exc:
            raise ContractError(f"{exc}, e.g. 5/s or 120/min", where="--demo-rate-limit") from None
    if reports is not None:
        _check_reports(Path(reports))


def _check_reports(path: Path) -> None:
    """The reports folder must be a directory lockstep can create or write in."""
    if path.exists() and not path.is_dir():
        raise ContractError(f"{str(path)!r} is a file: pass a directory (created if missing)", where="--reports")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ContractError(f"{str(path)!r} cannot be created: {str(existing)!r} is a file", where="--reports")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ContractError(f"{str(path)!r}: {str(existing)!r} is not writable", where="--reports")


def _target_url(value: object, source: str, loaded: Contract, name: str) -> None:
    where = f"--{name}-url" if source.startswith("option") else f"targets.{name}.url"
    check_target_url(str(value), where=where, file=None if source.startswith("option") else loaded.file)


def _check_nginx(faults: tuple[str, ...]) -> None:
    """The nginx demo gateway needs nginx and its njs module, and an nginx form of every fault: one line if not."""
    from .demo.nginx import NginxUnavailableError, UnsupportedFaultError, check_nginx  # no servers imported

    try:
        check_nginx(faults)
    except (NginxUnavailableError, UnsupportedFaultError) as exc:
        raise ContractError(str(exc), where="--demo-gateway") from None


def resolve_settings(*, contract: str | None, legacy_url: str | None, gateway_url: str | None,
                     profile: str | None, seed: str | None, demo_faults: str | None,
                     max_examples: int | None, demo_rate_limit: str | None = None,
                     demo_gateway: str | None = None, env: dict[str, str] | None = None,
                     reports: str | Path | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    _check_options(max_examples, demo_rate_limit, reports)
    path_value, path_source = _pick(contract, "LOCKSTEP_CONTRACT", None, DEFAULT_CONTRACT, env, "contract")
    path = Path(str(path_value))
    loaded = load_contract(path, env)
    profile_name, profile_source = _pick(profile, "LOCKSTEP_PROFILE", loaded.profile, "staging", env, "profile")
    chosen = loaded.profile_named(str(profile_name))
    seed_value, seed_source = _pick(seed, "LOCKSTEP_SEED", loaded.seed, None, env, "lockstep-seed")
    if seed_value is None:
        seed_value, seed_source = random.randrange(1, 2**31), "random"
    try:
        seed_int = int(str(seed_value))
    except ValueError:
        raise ContractError(f"seed must be a whole number, got {seed_value!r}", where=seed_source) from None
    legacy, legacy_source = _pick(legacy_url, "\0", loaded.targets.legacy.url, DEMO, env, "legacy-url")
    gateway, gateway_source = _pick(gateway_url, "\0", loaded.targets.gateway.url, DEMO, env, "gateway-url")
    _target_url(legacy, legacy_source, loaded, "legacy")
    _target_url(gateway, gateway_source, loaded, "gateway")
    faults = _faults(demo_faults)
    gateway_kind = demo_gateway or env.get("LOCKSTEP_DEMO_GATEWAY") or "python"
    if gateway_kind not in DEMO_GATEWAYS:
        raise ContractError(f"unknown demo gateway {gateway_kind!r}; known: {', '.join(DEMO_GATEWAYS)}",
                            where="--demo-gateway")
    if gateway_kind == "nginx" and DEMO in (str(legacy), str(gateway)):
        _check_nginx(faults)
    sources = {"contract": path_source, "profile": profile_source, "seed": seed_source,
               "legacy": "demo stack" if legacy == DEMO else legacy_source,
               "gateway": "demo stack" if gateway == DEMO else gateway_source}
    return Settings(loaded, path, str(profile_name), chosen, seed_int, str(legacy), str(gateway), faults,
                    max_examples, demo_rate_limit, gateway_kind, sources, Path(reports) if reports else None)
