"""lockstep.browser's public surface, and that importing it costs nothing until a browser is started."""

from __future__ import annotations

import subprocess
import sys

import lockstep.browser


def test_all_matches_what_the_package_exports():
    assert sorted(lockstep.browser.__all__) == sorted(
        name for name in vars(lockstep.browser) if not name.startswith("_") and name[0].isupper()
        or name == "find_chromium")
    for name in lockstep.browser.__all__:
        assert getattr(lockstep.browser, name).__name__ == name


def test_importing_the_oracle_does_not_load_playwright():
    code = "import sys, lockstep.browser; print('playwright' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
