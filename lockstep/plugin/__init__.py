"""The pytest side of lockstep: options, run state in `config.stash`, fixtures, verdicts, reports, xdist.

Only this package (and lockstep/pytest_plugin.py, its entry point) imports pytest.
"""
