import importlib
import subprocess
import sys

import lockstep


def test_every_public_name_is_a_real_attribute_of_its_module() -> None:
    for name in lockstep.__all__:
        value = getattr(lockstep, name)
        assert value.__name__ == name
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value
        assert name in getattr(home, "__all__", [name]), f"{name} is not in {value.__module__}.__all__"


def test_each_modules_all_names_only_what_it_defines() -> None:
    for module in ("lockstep.engine.registry", "lockstep.engine.context", "lockstep.engine.judge",
                   "lockstep.engine.send", "lockstep.engine.record", "lockstep.engine.stats", "lockstep.findings",
                   "lockstep.contract", "lockstep.targets", "lockstep.pytest_plugin"):
        loaded = importlib.import_module(module)
        missing = [n for n in loaded.__all__ if not hasattr(loaded, n)]
        assert missing == [], f"{module}.__all__ names what it lacks: {missing}"


def test_importing_the_demo_does_not_load_the_contract_machinery() -> None:
    code = "import sys, lockstep.demo.faults; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
