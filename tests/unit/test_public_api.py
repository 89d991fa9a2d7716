import subprocess
import sys

import lockstep


def test_all_matches_what_the_package_exports():
    assert sorted(lockstep.__all__) == sorted(lockstep._WHERE)
    for name in lockstep.__all__:
        assert getattr(lockstep, name).__name__ == name


def test_importing_the_demo_does_not_load_the_contract_machinery():
    code = "import sys, lockstep.demo.faults; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
