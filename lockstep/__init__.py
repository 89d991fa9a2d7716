"""lockstep: prove that an API gateway answers exactly like the legacy API it fronts.

The public names load on first use, so `python -m lockstep.demo` (and each demo child process) does
not pay for the contract machinery it never touches.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "Contract", "load_contract", "Finding",
    "LockstepError", "ContractError", "TargetUnreachable", "UnsafeRequestError",
]
__version__ = "0.1.0"

_WHERE = {
    "Contract": "contract", "load_contract": "contract", "Finding": "findings",
    "LockstepError": "errors", "ContractError": "errors", "TargetUnreachable": "errors",
    "UnsafeRequestError": "errors",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'lockstep' has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
