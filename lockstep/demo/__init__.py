"""The embedded demo stack: a legacy meal-kit API, an auth service and a gateway with named faults."""

from lockstep.demo.faults import KNOWN_FAULTS, UnknownFaultError
from lockstep.demo.stack import DemoStack

__all__ = ["KNOWN_FAULTS", "DemoStack", "UnknownFaultError"]
