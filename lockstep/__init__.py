"""lockstep: prove that an API gateway answers exactly like the legacy API it fronts."""

from .contract import Contract, load_contract
from .errors import ContractError, LockstepError, TargetUnreachable, UnsafeRequestError
from .findings import Finding

__all__ = [
    "Contract", "load_contract", "Finding",
    "LockstepError", "ContractError", "TargetUnreachable", "UnsafeRequestError",
]
__version__ = "0.1.0"
