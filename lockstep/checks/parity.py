"""Parity's comparison rules, by name: the judge (lockstep/engine/judge.py) applies them to every case
of the parity, stateful, HAR and alias comparisons. `checks: {disable: [parity.header]}` turns one off."""

from __future__ import annotations

from ..engine.registry import rule

__all__ = ["FLOW", "RULES"]

FLOW = "parity"
RULES = {
    "status": "the gateway answers another status than the legacy",
    "route-missing": "the gateway's own 404/405 where the legacy answers otherwise",
    "header": "a header of `compare.headers` differs, is dropped or is added",
    "host-leak": "the gateway's answer names the legacy host (headers and bodies)",
    "body-type": "a body, or a value inside it, has another type",
    "body-value": "a value of the body differs (outside the learned noise)",
    "missing-key": "the gateway's JSON lacks a key the legacy's has",
    "extra-key": "the gateway's JSON has a key the legacy's lacks",
    "conformance": "the gateway's answer breaks the OpenAPI document where the legacy's keeps it",
    "spec-gap": "a note: the legacy's answer already breaks the document",
}

for _name, _doc in RULES.items():
    rule(FLOW, _name, _doc)
