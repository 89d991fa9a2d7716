"""migration.yaml -> a validated Contract: YAML, `${VAR}` substitution, errors naming file and key."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ContractError
from .base import _unknown
from .model import Contract

__all__ = ["load_contract"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


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
