"""The load flow: does the auth path (gateway with valid tokens, and the token service) still answer at the
traffic the cutover must hold? Measured with Locust, in Locust's own processes.

    model.py       the contract's `load:` section (LoadSpec), operation check, skip reasons
    plan.py        the plan Locust runs (JSON: URLs, example requests, steps) and its secrets (environment)
    runner.py      Locust's master (+ N local workers) as child processes: bounded, killed on every exit
    locustfile.py  runs inside Locust only (gevent): users, the step shape, per-step results
    judge.py       per-step figures -> the knee, the budget at `rate` -> findings (flow "load")

Nothing here imports pytest or Locust: this package is imported by lockstep.contract (for LoadSpec), so
it stays light; the modules load on use.
"""
