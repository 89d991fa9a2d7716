"""The run header: every setting and where it came from, what the profile and the contract leave out."""

from __future__ import annotations

from ..engine.registry import all_checks
from ..operations import operations_of
from .state import RunState

__all__ = ["header_lines"]

LINKS_SHOWN = 8


def header_lines(state: RunState) -> list[str]:
    settings = state.settings
    lines = settings.header_lines()
    every = operations_of(state.schema.raw_schema)
    left_out = [op.label for op in every if not settings.contract.operations.selects(op)]
    if left_out:
        lines.append(f"lockstep: the contract's `operations` leaves out {len(left_out)} operation(s): "
                     f"{', '.join(left_out)}")
    if settings.profile.methods:
        allowed = {m.upper() for m in settings.profile.methods}
        skipped = [op.label for op in every if op.method not in allowed and op.label not in left_out]
        if skipped:
            lines.append(f"lockstep: the {settings.profile_name} profile skips {len(skipped)} operation(s) that "
                         f"are not {'/'.join(sorted(allowed))}: {', '.join(skipped)}")
    known = {c.qualified for c in all_checks()} | {c.name for c in all_checks()}
    for entry in settings.contract.checks.disabled():
        unknown = "" if entry.check in known else " (no check has this name)"
        lines.append(f"lockstep: check {entry.check} disabled: {entry.reason}{unknown}")
    if state.inferred_links:
        shown, more = state.inferred_links[:LINKS_SHOWN], len(state.inferred_links) - LINKS_SHOWN
        lines.append(f"lockstep: {len(state.inferred_links)} stateful link(s) inferred (the document declares "
                     f"none for them): {'; '.join(shown)}" + (f"; and {more} more" if more > 0 else ""))
    return lines
