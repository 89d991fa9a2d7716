"""migration.yaml -> a validated Contract.

Values come from the file, `${VAR}` / `${VAR:-default}` environment variables, and pytest options, in
that order of rising precedence (options are applied by `with_overrides`). Every problem is raised as a
ContractError naming the file and the key, before any request is sent.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import ContractError
from .rates import parse_rate

__all__ = [
    "Contract", "TargetSpec", "AuthSpec", "CompareSpec", "KnownDifference", "IgnoreRule", "Profile",
    "CorsPolicy", "AuthPolicy", "RoutesPolicy", "RouteAlias", "LatencyPolicy", "load_contract", "DEMO",
    "DEFAULT_COMPARE_HEADERS", "check_target_url",
]

DEMO = "demo"  # a target url of "demo" means: the embedded demo stack supplies it
DEFAULT_COMPARE_HEADERS = [
    "content-type", "cache-control", "etag", "location", "link", "set-cookie", "www-authenticate", "allow",
]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


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
    loadable: bool = False  # true: the load flow may send it load (never without this consent)
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
    sequences: int = Field(5, ge=0)  # stateful sequences per scenario; 0: no stateful flow
    sequence_repeat: int = Field(1, ge=1)  # how often a sequence repeats its writes
    negative: bool = False
    time_budget: float | None = Field(None, gt=0)  # seconds; tests starting later are skipped
    phases: list[Literal["examples", "coverage", "fuzzing"]] = ["examples", "fuzzing"]
    bursts: bool = True  # bounded bursts (the CORS 429 probe, auth and latency bursts); never on live
    deadline: float = Field(30, gt=0)  # seconds per operation and flow: its test then ends with what it judged


DEFAULT_PROFILES: dict[str, Profile] = {
    "smoke": Profile(methods=["GET", "HEAD", "OPTIONS"], max_examples=3, rate="10/s", sequences=0,
                     phases=["examples", "fuzzing"], time_budget=300, bursts=False, deadline=20),
    "staging": Profile(max_examples=10, sequences=5, deadline=30),
    "deep": Profile(max_examples=60, negative=True, phases=["examples", "coverage", "fuzzing"], sequences=25,
                    sequence_repeat=2, deadline=180),
}


class CorsOverride(_Model):
    """Changes to the CORS policy for the operations that ALL given selectors match; later overrides win."""

    path: str | None = None  # glob over the path template, e.g. /subscriptions*
    method: str | None = None
    tag: str | None = None
    origins: list[str] | None = None
    credentials: bool | None = None
    headers: list[str] | None = None
    expose: list[str] | None = None
    max_age: int | None = Field(None, ge=0)
    as_legacy: bool | None = None
    enabled: bool | None = None  # false: no origin at all may call these operations from a browser

    @field_validator("origins")
    @classmethod
    def _origins(cls, values: list[str] | None) -> list[str] | None:
        """Origins as browsers send them: scheme://host[:port], lower case, no path; or `*`."""
        for value in values or ():
            if value == "null":
                raise ValueError("`null` must never be an allowed origin (sandboxed frames and files send it)")
            if value != "*" and not re.fullmatch(r"[a-z][a-z0-9+.-]*://[a-z0-9.-]+(:\d{1,5})?", value):
                rest = value.split("://", 1)[-1]
                hint = ("drop the path or the trailing '/'" if "/" in rest else
                        "write it in lower case" if value != value.lower() else "write it as scheme://host[:port]")
                raise ValueError(f"{value!r} is not an origin as browsers send it: {hint}")
        return values

    @field_validator("headers", "expose")
    @classmethod
    def _header_names(cls, values: list[str] | None) -> list[str] | None:
        for value in values or ():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
                raise ValueError(f"{value!r} is not a header name")
        return values

    @field_validator("method")
    @classmethod
    def _method(cls, value: str | None) -> str | None:
        known = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
        if value is not None and value.upper() not in known:
            raise ValueError(f"unknown method {value!r} (known: {', '.join(known)})")
        return value.upper() if value else value

    def selects_something(self) -> bool:
        return not (self.path is None and self.method is None and self.tag is None)


class CorsPolicy(_Model):
    """What browsers may do: the CORS flow's truth (not the legacy's answers).

    `as_legacy: true` takes the grants (methods, headers, credentials, max age, exposed headers) from the
    legacy's answers to the same requests; the origins and the safety rules (origin fuzz, never a wildcard
    or a reflected origin with credentials) still come from this policy.
    """

    origins: list[str] = Field(min_length=1)
    credentials: bool = False
    headers: list[str] = ["Authorization", "Content-Type"]  # request headers browsers must be allowed to send
    expose: list[str] = []  # response headers scripts must be able to read
    max_age: int | None = Field(None, ge=0)  # seconds; None: not judged
    as_legacy: bool = False
    # Access-Control-Allow-Methods beyond what a path offers: a list the gateway may grant on any path (its one
    # global list), or `as_document` (only each path's own methods); None: an extra granted method is a note
    methods: list[str] | Literal["as_document"] | None = None
    overrides: list[CorsOverride] = []

    _origins = field_validator("origins")(CorsOverride._origins.__func__)  # type: ignore[attr-defined]
    _header_names = field_validator("headers", "expose")(CorsOverride._header_names.__func__)  # type: ignore[attr-defined]

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> Any:
        if value is None or value == "as_document":
            return value
        if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
            raise ValueError(f"{value!r}: write a list of methods the gateway may grant on any path (e.g. [GET, "
                             f"POST, PUT, PATCH, DELETE]) or `as_document` (only the methods each path offers)")
        for method in value:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", method):
                raise ValueError(f"{method!r} is not a method name")
        return [m.upper() for m in value]

    @field_validator("credentials")
    @classmethod
    def _credentials(cls, value: bool, info) -> bool:  # type: ignore[no-untyped-def]
        if value and "*" in (info.data.get("origins") or ()):
            raise ValueError("origin `*` with credentials: browsers refuse it; list the origins instead")
        return value

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, values: list[CorsOverride], info) -> list[CorsOverride]:  # type: ignore[no-untyped-def]
        for i, o in enumerate(values):
            if not o.selects_something():
                raise ValueError(f"overrides[{i}] needs a selector: path, method and/or tag")
            origins = o.origins if o.origins is not None else info.data.get("origins") or ()
            credentials = o.credentials if o.credentials is not None else info.data.get("credentials")
            if "*" in origins and credentials:
                raise ValueError(f"overrides[{i}]: origin `*` with credentials: browsers refuse it; list the origins")
        return values


class AuthPolicy(_Model):
    """The auth flow's truth: how the gateway authenticates (RFC 6750 bearer JWTs) and what it must not trust.

    Which operations are protected, and with which scopes, comes from the OpenAPI document's `security`.
    `demo` as issuer, audience, jwks_url, signing_key or kid means: the embedded demo stack's value. An
    unset issuer, audience or kid is read from the gateway token itself. The signing key (staging only)
    comes from an environment variable, `signing_key: "${AUTH_SIGNING_KEY}"`: PEM text or a PEM file's
    path, never a command-line argument; without it the variants that need it are skipped, saying why.
    """

    scheme: Literal["bearer"] = "bearer"
    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None  # the issuer's public keys (RS256->HS256 confusion variants)
    signing_key: SecretStr | None = None  # staging only: the issuer's private key (PEM text or file path)
    kid: str | None = None  # the key id tokens signed with signing_key carry
    algorithm: Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"] = "RS256"
    scope_claim: str = "scope"  # space-separated string or list
    identity_headers: list[str] = ["X-User-Id", "X-Consumer-Id", "X-Consumer-Username", "X-Authenticated-Userid",
                                   "X-Forwarded-User"]  # headers the upstream trusts; a client must not set them
    # operations whose answer shows whose identity reached the upstream (one, or a list: a public one too, so
    # that identity headers are probed on public routes as well as protected ones)
    identity_probe: list[str] = ["GET /users/me"]
    other_identity: str = "other-user"  # an identity that exists upstream and is not the token's
    skip_variants: list[str] = []  # variant or family names this gateway is not held to (e.g. raw-token)
    latency_samples: int = Field(20, ge=3, le=100)  # per target and operation
    burst_requests: int = Field(80, ge=10, le=180)  # invalid tokens sent while valid calls are timed
    max_overhead_p95_ms: float | None = Field(None, gt=0)  # budget: gateway p95 - legacy p95; None: figures only
    max_burst_slowdown: float | None = Field(None, gt=1)  # budget: valid p95 under the burst / quiet p95

    @field_validator("identity_probe", mode="before")
    @classmethod
    def _probe(cls, value: Any) -> list[str]:
        values = [] if value is None else [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise ValueError("write it as `GET /path` or a list of them")
        probes = []
        for one in values:
            method, _, path = str(one).strip().partition(" ")
            if method.upper() not in ("GET", "HEAD") or not path.strip().startswith("/"):
                raise ValueError(f"{one!r}: write it as `GET /path` (a safe operation whose answer names the caller)")
            probes.append(f"{method.upper()} {path.strip()}")
        return probes

    @field_validator("identity_headers")
    @classmethod
    def _identity_headers(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
                raise ValueError(f"{value!r} is not a header name")
        return values


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


class RouteAlias(_Model):
    """An old path (or host) clients still call, served by the gateway like a path of the document.

    `path`: the old prefix as clients call it, on the gateway's host (`/api/v1/recipes`) or a full URL of an
    old host (`https://old-api.example.com/v1/recipes`). `same_as`: the document path prefix it stands for
    (`/recipes`); every operation under it is compared through the old path too.
    """

    path: str
    same_as: str

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("/") or re.match(r"https?://[^/]+", value)):
            raise ValueError(f"{value!r}: write a path on the gateway's host (/api/v1) or a URL (https://old.example.com/v1)")
        return value.rstrip("/") or "/"

    @field_validator("same_as")
    @classmethod
    def _same_as(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r}: write a path of the document, e.g. /recipes")
        return value.rstrip("/") or "/"


class RoutesPolicy(_Model):
    """The route inventory's truth beyond the document: paths the public gateway must not serve, old paths
    it must keep serving. Private entries are concrete paths on the API's root, `/internal/stats` or
    `GET /internal/stats` (GET when no method is given)."""

    private: list[str] = []
    aliases: list[RouteAlias] = []

    @field_validator("private")
    @classmethod
    def _private(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            method, _, path = value.strip().rpartition(" ")
            method = method.strip().upper() or "GET"
            if method not in _HTTP_METHODS or not path.startswith("/") or "{" in path:
                raise ValueError(f"{value!r}: write a concrete path (/internal/stats) or `METHOD /path`")
            out.append(f"{method} {path}")
        return out


class LatencyPolicy(_Model):
    """Budgets for the gateway's latency overhead (gateway minus legacy, per operation); unset: figures only.

    `burst`: extra example requests per target and operation, a few in flight at once (safe methods only).
    `sample`: example requests per target when the parity flow left too few timings, and to confirm a
    budget that looks broken before failing (safe methods only).
    """

    p95_overhead_ms: float | None = Field(None, gt=0)
    p50_overhead_ms: float | None = Field(None, gt=0)
    burst: int = Field(0, ge=0, le=200)
    sample: int = Field(20, ge=5, le=100)


class OperationSelector(_Model):
    """Operations ALL given keys match: a path glob, a method, a tag, an operationId."""

    path: str | None = None
    method: str | None = None
    tag: str | None = None
    operation_id: str | None = None

    def matches(self, op: Any) -> bool:
        return ((self.path is None or fnmatch.fnmatchcase(op.path, self.path))
                and (self.method is None or op.method == self.method.upper())
                and (self.tag is None or self.tag in op.tags)
                and (self.operation_id is None or op.operation_id == self.operation_id))


class OperationSelection(_Model):
    """Which of the document's operations every flow tests: `include` (default: all), less `exclude`."""

    include: list[OperationSelector] = []
    exclude: list[OperationSelector] = []

    def selects(self, op: Any) -> bool:
        included = not self.include or any(s.matches(op) for s in self.include)
        return included and not any(s.matches(op) for s in self.exclude)


class DisabledCheck(_Model):
    check: str  # flow.name (cors.error-429) or a bare name for every flow
    reason: str = "disabled by the contract"


class ChecksSpec(_Model):
    disable: list[DisabledCheck | str] = []

    def disabled(self) -> list[DisabledCheck]:
        return [d if isinstance(d, DisabledCheck) else DisabledCheck(check=d) for d in self.disable]


class LoadBudget(_Model):
    p95_ms: float | None = Field(None, gt=0)  # gateway and token service p95 at `rate`
    error_rate: float = Field(0.01, ge=0, lt=1)  # share of failed requests (any stream); also the early stop
    overhead_p95_ms: float | None = Field(None, gt=0)  # gateway p95 minus legacy p95 at `rate`


class LoadSpec(_Model):
    """The load flow's traffic and budget; lockstep/load/model.py turns it into steps. Bounded on purpose:
    at most 12 steps of at most 5000/s and 600 s each, safe reads only."""

    rate: str  # the traffic the cutover must hold, N/s
    duration: float = Field(60, gt=0, le=600)  # seconds at `rate`
    ramp: list[int] = []  # rising steps, requests/s; `rate` joins them
    step_duration: float = Field(10, ge=2, le=600)  # seconds each other step lasts
    operations: list[str] = Field(min_length=1)  # `GET /path` as in the document, driven by their examples
    token_rate: str | None = None  # token requests/s at `rate` (each step in proportion)
    budget: LoadBudget = LoadBudget()
    knee_floor_ms: float = Field(50, ge=0)  # a p95 under this counts as this much when looking for the doubling

    @field_validator("rate", "token_rate")
    @classmethod
    def _rates(cls, value: str | None) -> str | None:
        if value is not None and parse_rate(value)[0] > 5000:
            raise ValueError(f"{value}: more than 5000/s; split it over load workers on other hosts")
        return value

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, steps: list[int]) -> list[int]:
        if any(s < 1 or s > 5000 for s in steps) or sorted(set(steps)) != steps or len(steps) > 11:
            raise ValueError("ramp: at most 11 rising steps, each 1 to 5000 requests/s")
        return steps

    @field_validator("operations")
    @classmethod
    def _operations(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            method, _, path = value.strip().partition(" ")
            if method.upper() not in ("GET", "HEAD") or not path.strip().startswith("/"):
                raise ValueError(f"{value!r}: write `GET /path` as in the document (only safe reads carry load)")
            out.append(f"{method.upper()} {path.strip()}")
        return out


class Contract(_Model):
    spec: str
    targets: Targets
    compare: CompareSpec = CompareSpec()
    cors: CorsPolicy | None = None
    auth: AuthPolicy | None = None
    routes: RoutesPolicy | None = None
    latency: LatencyPolicy | None = None
    load: LoadSpec | None = None  # the load flow's traffic and budget (lockstep/load/model.py)
    har: str | None = None  # a recorded-traffic file (HAR) to replay, relative to this file
    operations: OperationSelection = OperationSelection()
    checks: ChecksSpec = ChecksSpec()
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


def check_target_url(url: str, *, where: str, file: str | None = None) -> None:
    """Raise ContractError unless `url` is `demo` or an http(s) URL with a host; the message says the fix.

    Checked on the value a run will use (an option overrides the contract's), so it is called by settings.
    """
    if url == DEMO:
        return
    parts = urlsplit(url) if "://" in url else None
    if parts and parts.scheme in ("http", "https") and parts.hostname and _port_ok(parts):
        return
    subject = "the target URL" if "@" in url else f"target URL {url!r}"  # user:password@ is never echoed
    if not url.strip():
        problem = "the target URL is empty: write the base URL, e.g. http://localhost:8080 (or `demo`)"
    elif parts is None:
        fix = "http://HOST:PORT" if "@" in url else f"http://{url.strip()}"
        problem = f"{subject} has no scheme: write {fix} (or https://...)"
    elif parts.scheme not in ("http", "https"):
        problem = f"{subject} is not an http or https URL"
    elif not parts.hostname:
        problem = f"{subject} names no host: write e.g. http://localhost:8080"
    else:
        problem = f"{subject} has a port that is not a number from 1 to 65535"
    raise ContractError(problem, file=file, where=where)


def _port_ok(parts: Any) -> bool:
    try:
        return parts.port is None or 0 < parts.port
    except ValueError:
        return False


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

    _check_placeholders(value, file, loc)
    return _VAR.sub(repl, value)


def _check_placeholders(value: str, file: str, loc: tuple) -> None:
    """Every `${` must open a well-formed `${NAME}` or `${NAME:-default}`: a malformed one would otherwise
    be sent literally (an unclosed `${GATEWAY_TOKEN` as the bearer token). The text is echoed only when it
    looks like a variable name, never a value that could be a secret."""
    start = value.find("${")
    while start != -1:
        if not _VAR.match(value, start):
            raise ContractError(_malformed(value[start + 2:]), file=file, where=_dotted(loc))
        start = value.find("${", start + 2)


def _malformed(rest: str) -> str:
    inner, closed, _ = rest.partition("}")
    name = re.match(r"[A-Za-z0-9_]*", inner).group(0)  # type: ignore[union-attr]
    named = bool(re.fullmatch(r"[A-Z0-9_]{1,64}", name))  # upper case: a variable name, not a secret
    if not closed:
        fix = f": write ${{{name}}}" if named else ""
        return f"malformed variable: {'${' + name if named else '${'} is never closed with '}}'{fix}"
    if not inner:
        return "malformed variable: ${} names no variable: write ${NAME} or ${NAME:-default}"
    shown = f"${{{inner}}}" if named and name == inner else "a ${...}"
    return (f"malformed variable: {shown} is not a variable name (letters, digits and _, not starting with a "
            f"digit), e.g. ${{GATEWAY_TOKEN}} or ${{GATEWAY_TOKEN:-default}}")


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
