"""The OpenAPI document through Schemathesis: loaded, checked whole, configured for a profile."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import GenerationMode

from .errors import ContractError
from .settings import Settings

__all__ = ["load_spec", "PLACEHOLDER_BASE_URL"]

# never contacted: each request is re-addressed to a target; without it Schemathesis builds file:// URLs
PLACEHOLDER_BASE_URL = "http://lockstep.invalid"


def load_spec(settings: Settings) -> Any:
    path = settings.contract.spec_path
    try:
        schema = schemathesis.openapi.from_path(str(path))
    except Exception as exc:  # Schemathesis raises LoaderError subclasses with a readable message
        raise ContractError(f"cannot load the OpenAPI document: {_first_line(exc)}", file=str(path)) from None
    _check_operations(schema, str(path))
    schema.config.update(base_url=PLACEHOLDER_BASE_URL)
    max_examples = settings.max_examples or settings.profile.max_examples
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if settings.profile.negative else [])
    schema.config.generation.update(max_examples=max_examples, modes=modes, unique_inputs=True,
                                    database="none")
    schema.config.phases.update(phases=list(settings.profile.phases))
    schema.config.seed = settings.seed
    schema.config.cache.enabled = False  # replayed crash cases from earlier runs would break "same seed, same cases"
    if settings.profile.methods:
        schema = schema.include(method=[m.upper() for m in settings.profile.methods])
    return schema


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


def _first_line(exc: object) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
