"""The CI recipes in examples/ci parse, keep reports as artifacts, call commands that exist, and never
put a secret on a command line."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "examples" / "ci").glob("*.yml"))


def commands(node) -> list[str]:
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key in ("run", "script", "args") and isinstance(value, (str, list)):
                found += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
            found += commands(value)
        return found
    if isinstance(node, list):
        return [c for item in node for c in commands(item)]
    return []


def pytest_invocations(recipe: Path) -> list[list[str]]:
    out = []
    for command in commands(yaml.safe_load(recipe.read_text())):
        for part in re.split(r"&&|\n", command):
            words = shlex.split(part)
            if "pytest" in words:
                out.append(words[words.index("pytest") + 1:])
    return out


def test_there_is_a_recipe_for_each_ci():
    assert {p.name for p in RECIPES} == {"github-actions.yml", "gitlab-ci.yml", "concourse-pipeline.yml"}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_runs_real_pytest_options_and_the_make_target_exists(recipe):
    invocations = pytest_invocations(recipe)
    assert invocations, "the recipe must run the suites"
    assert any("smoke" in args for args in invocations) and any("staging" in args for args in invocations)
    makefile = (ROOT / "Makefile").read_text()
    assert "make install" in recipe.read_text() and re.search(r"^install:", makefile, re.M)
    for args in invocations:
        proc = subprocess.run([sys.executable, "-m", "pytest", *args, "--collect-only", "-q",
                               "-p", "no:cacheprovider", "--reports", "/tmp/lockstep-recipe-check"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
        assert proc.returncode == 0, (args, proc.stdout[-1500:], proc.stderr[-1500:])


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_keeps_reports_and_keeps_secrets_off_command_lines(recipe):
    text = recipe.read_text()
    assert "reports" in text
    for command in commands(yaml.safe_load(text)):
        assert "TOKEN" not in command and "SIGNING_KEY" not in command, command
