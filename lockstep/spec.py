"""The OpenAPI document through Schemathesis: loaded, checked whole, configured for a profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import schemathesis
import yaml
from schemathesis import GenerationMode

from .errors import ContractError
from .operations import Operation
from .settings import Settings

__all__ = ["load_spec", "check_references", "credential_probe", "PLACEHOLDER_BASE_URL"]

# never contacted: each request is re-addressed to a target; without it Schemathesis builds file:// URLs
PLACEHOLDER_BASE_URL = "http://lockstep.invalid"


def load_spec(settings: Settings) -> Any:
    path = settings.contract.spec_path
    try:
        schema = schemathesis.openapi.from_path(str(path))
    except Exception as exc:  # Schemathesis raises LoaderError subclasses with a readable message
        raise ContractError(f"cannot load the OpenAPI document: {_first_line(exc)}", file=str(path)) from None
    check_references(schema.raw_schema, Path(path))
    _check_operations(schema, str(path))
    schema.config.update(base_url=PLACEHOLDER_BASE_URL)
    max_examples = settings.max_examples if settings.max_examples is not None else settings.profile.max_examples
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if settings.profile.negative else [])
    schema.config.generation.update(max_examples=max_examples, modes=modes, unique_inputs=True,
                                    database="none")
    schema.config.phases.update(phases=list(settings.profile.phases))
    schema.config.seed = settings.seed
    schema.config.cache.enabled = False  # replayed crash cases from earlier runs would break "same seed, same cases"
    if settings.profile.methods:
        _check_profile_leaves_some(schema.raw_schema, settings, str(path))
        schema = schema.include(method=[m.upper() for m in settings.profile.methods])
    return schema


def _check_profile_leaves_some(document: dict[str, Any], settings: Settings, file: str) -> None:
    """A profile whose methods match no operation would run empty suites and pass: stop instead."""
    allowed = {m.upper() for m in settings.profile.methods or ()}
    methods = {m.upper() for item in (document.get("paths") or {}).values() if isinstance(item, dict)
               for m in _deref(document, item) if m.upper() in _HTTP_METHODS}
    if methods and not methods & allowed:
        raise ContractError(f"the {settings.profile_name} profile allows only {', '.join(sorted(allowed))}, and "
                            f"the document has only {', '.join(sorted(methods))} operations: nothing would be "
                            f"tested (use another profile, e.g. --profile staging)", file=file)


_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


def _check_operations(schema: Any, file: str) -> None:
    count = 0
    for result in schema.get_all_operations():
        if type(result).__name__ == "Err":
            error = result.err()
            label = " ".join(str(p) for p in (getattr(error, "method", None), getattr(error, "path", None)) if p)
            detail = " ".join(str(error).split())
            raise ContractError(f"operation {label or '?'} cannot be used: {detail[:300]}", file=file)
        count += 1
    if count == 0:
        raise ContractError("the document defines no operations (is `paths` empty?)", file=file)


def credential_probe(document: dict[str, Any], operations: list[Operation]) -> Operation | None:
    """The operation the start-up credential check calls: protected, GET or HEAD, nothing required but
    its path parameters; one without scopes and without path parameters first. None: nothing fits."""
    fits = [op for op in operations
            if op.protected and op.method in ("GET", "HEAD") and not op.has_body and not _needs_more(document, op)]
    fits.sort(key=lambda op: (bool(op.scopes), "{" in op.path, op.method != "GET", len(op.path)))
    return fits[0] if fits else None


def _needs_more(document: dict[str, Any], op: Operation) -> bool:
    """Whether the operation requires a query, header or cookie parameter (other than Authorization)."""
    item = _deref(document, (document.get("paths") or {}).get(op.path))
    operation = _deref(document, item.get(op.method.lower()))
    for param in (_deref(document, p) for p in [*(item.get("parameters") or ()), *(operation.get("parameters") or ())]):
        if param.get("required") and param.get("in") in ("query", "header", "cookie") \
                and str(param.get("name", "")).lower() != "authorization":
            return True
    return False


def _deref(document: Any, node: Any) -> dict[str, Any]:
    """A local `$ref` followed (bounded: a cycle ends here); {} for anything that is not a mapping."""
    for _ in range(20):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        node = _target(document, ref[1:])
    return node if isinstance(node, dict) else {}


# keys whose value is data, not document structure (unless they name a property, a component, ...)
_LITERAL_KEYS = frozenset({"example", "default", "enum", "const", "value"})
_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "schemas",
                        "parameters", "responses", "examples", "headers", "requestBodies", "securitySchemes",
                        "links", "callbacks", "pathItems", "paths", "webhooks", "content", "encoding", "variables"})
_Broken = tuple[Path, str, str, str]  # document, pointer of the $ref, the reference, why


def check_references(document: Any, path: Path) -> None:
    """Raise ContractError unless every `$ref` of the document (and of the files it refers to) resolves.

    One walk over each document, so a 1,000-operation document costs a fraction of a second. Local and
    file-relative references are checked; remote ones (http, urn, `$id` names) are left to Schemathesis.
    """
    docs, pending, broken = {path.resolve(): document}, [path.resolve()], []
    while pending:
        current = pending.pop()
        broken += _broken_in(docs[current], current, docs, pending)
    if broken:
        file, pointer, ref, why = broken[0]
        more = f" (and {len(broken) - 1} more broken reference(s))" if len(broken) > 1 else ""
        raise ContractError(f"unresolvable $ref {ref!r}{why}{more}", file=str(file), where=f"#{pointer}")


def _broken_in(document: Any, file: Path, docs: dict[Path, Any], pending: list[Path]) -> list[_Broken]:
    broken: list[_Broken] = []
    names_itself: bool | None = None  # computed once, and only if a file reference fails
    stack: list[tuple[Any, str, Any]] = [(document, "", None)]
    while stack:
        node, pointer, parent_key = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{pointer}/{i}", i) for i, v in reversed(list(enumerate(node)))
                         if isinstance(v, (dict, list)))
            continue
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.strip():
            why = _unresolved(ref.strip(), document, file, docs, pending)
            if why and names_itself is None:
                names_itself = _names_itself(document)
            if why is not None and not (why and names_itself):
                broken.append((file, pointer, ref, why))
        literal_ok = parent_key in _NAME_MAPS  # there a key is a name: `properties: {default: ...}`
        for key, value in reversed(node.items()):  # popped in document order
            if not isinstance(value, (dict, list)):
                continue
            if not literal_ok and isinstance(key, str) and (key in _LITERAL_KEYS or key.startswith("x-")):
                continue
            stack.append((value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}", key))
    return broken


def _unresolved(ref: str, document: Any, file: Path, docs: dict[Path, Any], pending: list[Path]) -> str | None:
    """None if `ref` resolves, else why not (`""` when the pointer simply names nothing)."""
    target, _, fragment = ref.partition("#")
    if not target:
        return None if _fragment_resolves(document, fragment) else ""
    if urlsplit(target).scheme not in ("", "file"):
        return None
    other = Path(unquote(urlsplit(target).path))
    other = (other if other.is_absolute() else file.parent / other).resolve()
    if other not in docs:
        try:
            docs[other] = yaml.load(other.read_text(encoding="utf-8"), Loader=_LOADER)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            docs[other] = None
            return f" (cannot read {other}: {_first_line(exc)})"
        pending.append(other)
    if docs[other] is None:
        return f" (cannot read {other})"
    return None if _fragment_resolves(docs[other], fragment) else f" ({other} has no {fragment or '/'})"


def _fragment_resolves(document: Any, fragment: str) -> bool:
    if fragment in ("", "/"):
        return True
    if not fragment.startswith("/"):  # a plain-name anchor, or a pointer missing its leading '/'
        return _has_anchor(document, fragment) or _fragment_resolves(document, "/" + fragment)
    return any(_walk(document, f) for f in {fragment, unquote(fragment)})


_MISSING = object()


def _walk(node: Any, pointer: str) -> bool:
    return _target(node, pointer) is not _MISSING


def _target(node: Any, pointer: str) -> Any:
    """The value a JSON pointer names in `node`, or _MISSING."""
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _has_anchor(node: Any, name: str) -> bool:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("$anchor") == name:
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


def _names_itself(document: Any) -> bool:
    """Whether the document names schemas with an absolute `$id`: its relative references resolve against
    those names, not the file system, so a reference to a missing file may still be fine."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get("$id")
            if isinstance(value, str) and ("://" in value or value.startswith("urn:")):
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _first_line(exc: object) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
