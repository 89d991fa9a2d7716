"""Bad input and target faults: one clear line, a distinct exit code, never a traceback."""

from pathlib import Path

import pytest

from lockstep.demo import DemoStack

from .runner import ROOT, run_suites

pytestmark = pytest.mark.e2e

SPEC = (ROOT / "contracts" / "demo-api.yaml").resolve()
GOOD = f"spec: {SPEC}\ntargets:\n  legacy: {{url: demo}}\n  gateway: {{url: demo, auth: {{bearer: demo}}}}\n"
BROKEN_REF = ("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
              "      parameters: [{$ref: '#/components/parameters/nope'}]\n      responses: {'200': {description: ok}}\n")

# name -> (contract text or None for "no such file", extra files, extra args, env, exit code, expected text)
TABLE = {
    "missing contract": (None, {}, [], {}, 4, "contract file not found"),
    "yaml syntax error": ("spec: x\ntargets: {legacy: [\n", {}, [], {}, 4, "line 3, column 1: YAML syntax error"),
    "unknown key": (GOOD + "compre: {}\n", {}, [], {}, 4, "unknown key 'compre'; did you mean 'compare'?"),
    "wrong type": (GOOD + "compare: {max_body_bytes: lots}\n", {}, [], {}, 4, "compare.max_body_bytes"),
    "missing variable": (GOOD.replace("bearer: demo", "bearer: '${NOPE_TOKEN}'"), {}, [], {}, 4,
                         "targets.gateway.auth.bearer: environment variable ${NOPE_TOKEN} is not set"),
    "broken $ref": (GOOD.replace(str(SPEC), "api.yaml"), {"api.yaml": BROKEN_REF}, [], {}, 4,
                    "operation get /a cannot be used: Unresolvable reference"),
    "not an OpenAPI document": (GOOD.replace(str(SPEC), "api.yaml"), {"api.yaml": "asyncapi: 2.0.0\n"}, [], {}, 4,
                                "cannot load the OpenAPI document"),
    "invalid structure": (GOOD.replace(str(SPEC), "api.yaml"),
                          {"api.yaml": "openapi: 3.0.3\ninfo: {title: t}\npaths: {/a: {get: {responses: 1}}}\n"},
                          [], {}, 4, "cannot be used"),
    "unknown profile": (GOOD, {}, ["--profile", "smok"], {}, 4, "unknown profile 'smok'; did you mean 'smoke'?"),
    "unknown demo fault": (GOOD, {}, ["--demo-faults", "nope"], {}, 4, "unknown fault 'nope'; known: missing-route"),
    "refused target": (GOOD.replace("{url: demo}", "{url: 'http://127.0.0.1:9'}", 1), {}, [], {}, 3,
                       "legacy at http://127.0.0.1:9 is unreachable: connection refused"),
    "unresolvable target": (GOOD.replace("{url: demo}", "{url: 'http://no-such-host.invalid'}", 1), {}, [], {}, 3,
                            "is unreachable: name does not resolve"),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_bad_input_gives_one_line_and_an_exit_code(tmp_path, name):
    text, files, args, env, code, expected = TABLE[name]
    contract = tmp_path / "migration.yaml"
    if text is not None:
        contract.write_text(text)
    for file, content in files.items():
        (tmp_path / file).write_text(content)
    run = run_suites(tmp_path, "suites", "--contract", str(contract), *args, env=env, timeout=120)
    assert run.rc == code, run.out[-2000:]
    assert expected in run.out, run.out[-2000:]
    assert "Traceback" not in run.out and "File \"" not in run.out


def test_timeouts_are_transport_findings_not_differences(tmp_path):
    contract = tmp_path / "migration.yaml"
    contract.write_text(f"spec: {SPEC}\ntargets:\n  legacy: {{url: '${{L}}', headers: {{X-User-Id: demo-user}}}}\n"
                        f"  gateway: {{url: '${{G}}', auth: {{bearer: '${{T}}'}}, timeout: {{connect: 2, read: 0.05}}}}\n")
    with DemoStack(["slow-route"]) as stack:
        env = {"L": stack.legacy_url, "G": stack.gateway_url, "T": stack.token()}
        run = run_suites(tmp_path, "suites/test_parity.py", "--contract", str(contract), "--max-examples=2",
                         "-k", "getRecipe or recipe_id", env=env, timeout=120)
    assert run.rc == 1, run.out[-2000:]
    [finding] = run.findings("parity")
    assert finding["check"] == "transport" and "read timeout" in finding["message"]


def test_rate_limited_gateway_is_waited_out_not_reported_as_differences(tmp_path):
    run = run_suites(tmp_path, "suites/test_parity.py", "--demo-rate-limit=3/s", "--max-examples=4",
                     "-k", "recipes or menus or health", "--lockstep-seed=9")
    assert run.rc == 0, run.out[-2000:]
    assert run.findings() == []
    assert all(n["check"] in ("rate-limited", "order-dependent") for n in run.summary["notes"])


def test_tls_failure_explains_the_verify_option(tmp_path):
    from .tls_server import self_signed_server

    with self_signed_server() as url:
        contract = tmp_path / "migration.yaml"
        contract.write_text(GOOD.replace("{url: demo}", f"{{url: '{url}'}}", 1))
        run = run_suites(tmp_path, "suites", "--contract", str(contract), timeout=120)
    assert run.rc == 3, run.out[-2000:]
    assert "TLS error" in run.out and "verify: /path/to/ca-bundle.pem" in run.out
