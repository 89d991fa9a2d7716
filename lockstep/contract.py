"""migration.yaml -> a validated Contract.

Values come from the file, `${VAR}` / `${VAR:-default}` environment variables, and pytest options, in
that order of rising precedence (options are applied by `with_overrides`). Every problem is raised as a
ContractError naming the file and the key, before any request is sent.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import ContractError

__all__ = [
    "Contract", "TargetSpec", "AuthSpec", "CompareSpec", "KnownDifference", "IgnoreRule", "Profile",
    "CorsPolicy", "AuthPolicy", "load_contract", "DEMO", "DEFAULT_COMPARE_HEADERS", "parse_rate",
]

DEMO = "demo"  # a target url of "demo" means: the embedded demo stack supplies it
DEFAULT_COMPARE_HEADERS = [
    "content-type", "cache-control", "etag", "location", "link", "set-cookie", "www-authenticate", "allow",
]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*$")


def parse_rate(text: str) -> float:
    """'10/s' -> 10.0 requests a second; '120/min' -> 2.0."""
    m = _RATE.match(text)
    if not m:
        raise ValueError(f"rate {text!r} is not of the form N/s or N/min")
    n = float(m.group(1))
    return n if m.group(2).startswith("s") else n / 60.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Model):
    """How a target authenticates: a static bearer token, or client credentials at a token URL."""

    bearer: SecretStr | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None


class Timeouts(_Model):
    connect: float = Field(5.0, gt=0)
    read: float = Field(30.0, gt=0)


class TargetSpec(_Model):
    url: str
    prefix: str = ""
    headers: dict[str, str] = {}
    auth: AuthSpec | None = None
    timeout: Timeouts = Timeouts()
    verify: bool | str = True  # False, or a CA bundle path
    rate: str | None = None  # request-rate ceiling, e.g. "50/s"
    writable: bool = True  # false: only GET/HEAD/OPTIONS may ever be sent
    max_wait: float = Field(10.0, ge=0)  # longest Retry-After honoured before giving up

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: str | None) -> str | None:
        if v is not None:
            parse_rate(v)
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return "/" + v.strip("/") if v.strip("/") else ""


class Targets(_Model):
    legacy: TargetSpec
    gateway: TargetSpec


class IgnoreRule(_Model):
    operation: str = "*"
    where: str


class CompareSpec(_Model):
    headers: list[str] = DEFAULT_COMPARE_HEADERS
    ignore: list[IgnoreRule] = []
    max_body_bytes: int = Field(1_000_000, gt=0)  # past this, bodies are compared by hash and size


class KnownDifference(_Model):
    operation: str
    where: str
    reason: str
    until: dt.date
    flow: str = "parity"


class Profile(_Model):
    methods: list[str] | None = None  # None: every method
    max_examples: int = Field(10, ge=1)
    rate: str | None = None
    stateful: bool = True
    negative: bool = False
    phases: list[Literal["examples", "coverage", "fuzzing"]] = ["examples", "fuzzing"]


DEFAULT_PROFILES: dict[str, Profile] = {
    "smoke": Profile(methods=["GET", "HEAD", "OPTIONS"], max_examples=3, rate="10/s", stateful=False,
                     phases=["examples", "fuzzing"]),
    "staging": Profile(max_examples=10),
    "deep": Profile(max_examples=60, negative=True, phases=["examples", "coverage", "fuzzing"]),
}


class CorsOverride(_Model):
    path: str | None = None  # glob over the path template, e.g. /subscriptions*
    method: str | None = None
    tag: str | None = None
    origins: list[str] | None = None
    credentials: bool | None = None
    headers: list[str] | None = None
    expose: list[str] | None = None
    max_age: int | None = None
    enabled: bool = True


class CorsPolicy(_Model):
    origins: list[str]
    credentials: bool = False
    headers: list[str] = ["Authorization", "Content-Type"]
    expose: list[str] = []
    max_age: int | None = None
    overrides: list[CorsOverride] = []


class AuthPolicy(_Model):
    scheme: Literal["bearer"] = "bearer"
    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None
    signing_key: SecretStr | None = None  # staging only: PEM of the issuer's private key
    kid: str | None = None
    identity_headers: list[str] = ["X-User-Id"]
    identity_probe: str | None = "GET /users/me"


class Contract(_Model):
    spec: str
    targets: Targets
    compare: CompareSpec = CompareSpec()
    cors: CorsPolicy | None = None
    auth: AuthPolicy | None = None
    known_differences: list[KnownDifference] = []
    profiles: dict[str, Profile] = {}
    profile: str = "staging"
    seed: int | None = None
    # where the file lives: relative paths in it resolve from there (not a user key)
    base_dir: Path = Field(Path("."), exclude=True)
    file: str = Field("", exclude=True)

    @property
    def spec_path(self) -> Path:
        return (self.base_dir / self.spec).resolve()

    def profile_named(self, name: str) -> Profile:
        merged = {**DEFAULT_PROFILES, **self.profiles}
        if name not in merged:
            raise ContractError(_unknown("profile", name, list(merged)), file=self.file, where="profile")
        return merged[name]


def load_contract(path: str | Path, env: dict[str, str] | None = None) -> Contract:
    """Read, substitute and validate a contract file; raise ContractError with file and key."""
    path = Path(path)
    env = dict(os.environ) if env is None else env
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ContractError("the top level must be a mapping of keys (spec, targets, ...)", file=str(path))
    data = _substitute(raw, env, str(path), ())
    try:
        contract = Contract.model_validate({**data, "base_dir": path.parent, "file": str(path)})
    except ValidationError as exc:
        raise _explain(exc, str(path)) from None
    if not contract.spec_path.is_file():
        raise ContractError(f"the OpenAPI document {contract.spec_path} does not exist", file=str(path), where="spec")
    return contract


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError("contract file not found; pass --contract PATH or create contracts/migration.yaml",
                            file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"cannot read the contract: {exc.__class__.__name__}: {exc}", file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ContractError(f"YAML syntax error: {exc.problem}", file=str(path), where=where) from None
    except yaml.YAMLError as exc:
        raise ContractError(f"YAML syntax error: {exc}", file=str(path)) from None


def _substitute(value: Any, env: dict[str, str], file: str, loc: tuple) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, env, file, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env, file, (*loc, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ContractError(f"environment variable ${{{name}}} is not set (export it, or give a default "
                            f"with ${{{name}:-value}})", file=file, where=_dotted(loc))

    return _VAR.sub(repl, value)


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _explain(exc: ValidationError, file: str) -> ContractError:
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if p not in ("base_dir", "file"))
    more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    if err["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        return ContractError(_unknown("key", str(loc[-1]), known) + more, file=file, where=_dotted(loc))
    if err["type"] == "missing":
        return ContractError(f"required key is missing{more}", file=file, where=_dotted(loc))
    value = err.get("input")
    shown = "" if _secretish(loc) else f" (got {value!r})"
    return ContractError(f"{err['msg']}{shown}{more}", file=file, where=_dotted(loc))


def _secretish(loc: tuple) -> bool:
    return any(str(p) in ("bearer", "client_secret", "signing_key", "headers") for p in loc)


def _known_keys(loc: tuple) -> list[str]:
    model: Any = Contract
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        model = _inner_model(field.annotation) if field else None
    if model is Contract:
        return [k for k in Contract.model_fields if k not in ("base_dir", "file")]
    return list(getattr(model, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})"
