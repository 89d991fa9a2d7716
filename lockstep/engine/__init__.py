"""The engine every flow uses: judging a pair of answers, sending through a target, recording a finding,
percentiles, and the check registry with the narrow context checks receive.

It imports the core modules (contract, targets, views, compare, noise, findings, report) and never a
flow (`lockstep/checks/`), the session or pytest. See ARCHITECTURE.md.
"""
