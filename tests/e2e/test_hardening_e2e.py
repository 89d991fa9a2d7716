"""Bad input and target faults: one clear line, a distinct exit code, never a traceback."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import pytest

from lockstep.demo import DemoStack

from .runner import ROOT, demo_contract, run_suites

pytestmark = pytest.mark.e2e

SPEC = (ROOT / "contracts" / "demo-api.yaml").resolve()
HAR = (ROOT / "fixtures" / "demo-session.har").resolve()
GOOD = f"spec: {SPEC}\ntargets:\n  legacy: {{url: demo}}\n  gateway: {{url: demo, auth: {{bearer: demo}}}}\n"
OWN_SPEC = GOOD.replace(str(SPEC), "api.yaml")
HEAD = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /health:\n    get:\n"
BROKEN_REF = HEAD + ("      parameters: [{$ref: '#/components/parameters/nope'}]\n"
                     "      responses: {'200': {description: ok}}\n")
BROKEN_RESPONSE = HEAD + ("      responses:\n        '200':\n          description: ok\n          content:\n"
                          "            application/json: {schema: {$ref: '#/components/schemas/Nope'}}\n")
BROKEN_OPTIONAL = HEAD + ("      parameters: [{name: q, in: query, schema: {$ref: '#/components/schemas/Nope'}}]\n"
                          "      responses: {'200': {description: ok}}\n")
POST_ONLY = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a: {post: {responses: {'201': {description: ok}}}}\n"
RESPONSE_POINTER = "#/paths/~1health/get/responses/200/content/application~1json/schema"


@dataclass
class Probe:
    contract: str | None  # None: no such file
    code: int
    expected: str
    args: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    absent: str = ""  # text that must not be in the output (e.g. the wrong culprit)


TABLE = {
    "missing contract": Probe(None, 4, "contract file not found"),
    "yaml syntax error": Probe("spec: x\ntargets: {legacy: [\n", 4, "line 3, column 1: YAML syntax error"),
    "unknown key": Probe(GOOD + "compre: {}\n", 4, "unknown key 'compre'; did you mean 'compare'?"),
    "wrong type": Probe(GOOD + "compare: {max_body_bytes: lots}\n", 4, "compare.max_body_bytes"),
    "missing variable": Probe(GOOD.replace("bearer: demo", "bearer: '${NOPE_TOKEN}'"), 4,
                              "targets.gateway.auth.bearer: environment variable ${NOPE_TOKEN} is not set"),
    "unclosed variable": Probe(GOOD.replace("bearer: demo", "bearer: '${GATEWAY_TOKEN'"), 4,
                               "targets.gateway.auth.bearer: malformed variable: ${GATEWAY_TOKEN is never closed"),
    "empty variable": Probe(GOOD.replace("bearer: demo", "bearer: '${}'"), 4, "${} names no variable"),
    "variable not a name": Probe(GOOD.replace("bearer: demo", "bearer: '${1X}'"), 4,
                                 "${1X} is not a variable name"),
    "broken $ref, required parameter": Probe(OWN_SPEC, 4, "#/paths/~1health/get/parameters/0: unresolvable $ref "
                                             "'#/components/parameters/nope'", files={"api.yaml": BROKEN_REF}),
    "broken $ref, response schema": Probe(OWN_SPEC, 4, f"api.yaml: {RESPONSE_POINTER}: unresolvable $ref "
                                          "'#/components/schemas/Nope'", files={"api.yaml": BROKEN_RESPONSE}),
    "broken $ref, optional parameter": Probe(OWN_SPEC, 4, "#/paths/~1health/get/parameters/0/schema: unresolvable",
                                             files={"api.yaml": BROKEN_OPTIONAL}),
    "broken $ref with a HAR": Probe(OWN_SPEC + f"har: {HAR}\n", 4, f"{RESPONSE_POINTER}: unresolvable $ref",
                                    files={"api.yaml": BROKEN_RESPONSE}, absent="HAR"),
    "not an OpenAPI document": Probe(OWN_SPEC, 4, "cannot load the OpenAPI document",
                                     files={"api.yaml": "asyncapi: 2.0.0\n"}),
    "invalid structure": Probe(OWN_SPEC, 4, "cannot be used",
                               files={"api.yaml": "openapi: 3.0.3\ninfo: {title: t}\npaths: {/a: {get: {responses: 1}}}\n"}),
    "profile leaves no operation": Probe(OWN_SPEC, 4, "the smoke profile allows only GET, HEAD, OPTIONS, and the "
                                         "document has only POST operations", ["--profile", "smoke"],
                                         files={"api.yaml": POST_ONLY}),
    "unknown profile": Probe(GOOD, 4, "unknown profile 'smok'; did you mean 'smoke'?", ["--profile", "smok"]),
    "unknown demo fault": Probe(GOOD, 4, "unknown fault 'nope'; known: missing-route", ["--demo-faults", "nope"]),
    "negative max examples": Probe(GOOD, 4, "--max-examples: must be 1 or more", ["--max-examples", "-1"],
                                   absent="InvalidArgument"),
    "zero max examples": Probe(GOOD, 4, "--max-examples: must be 1 or more (generated cases per operation), got 0",
                               ["--max-examples", "0"]),
    "reports is a file": Probe(GOOD, 4, "--reports: ", files={"reports": "a file, not a folder\n"},
                               absent="INTERNALERROR"),
    "demo rate limit not a rate": Probe(GOOD, 4, "--demo-rate-limit: rate 'abc' is not of the form N/s",
                                        ["--demo-rate-limit", "abc"]),
    "demo rate limit zero": Probe(GOOD, 4, "--demo-rate-limit: rate '0/s' is not of the form N/s or N/min with N > 0",
                                  ["--demo-rate-limit", "0/s"]),
    "seed not a number": Probe(GOOD, 4, "option --lockstep-seed: seed must be a whole number",
                               ["--lockstep-seed", "x"], absent="option --seed"),
    "contract url without scheme": Probe(GOOD.replace("{url: demo}", "{url: 'localhost:1234'}", 1), 4,
                                         "targets.legacy.url: target URL 'localhost:1234' has no scheme: "
                                         "write http://localhost:1234", absent="unreachable"),
    "--legacy-url without scheme": Probe(GOOD, 4, "--legacy-url: target URL 'localhost:1234' has no scheme: write "
                                         "http://localhost:1234", ["--legacy-url", "localhost:1234"]),
    "--gateway-url without scheme": Probe(GOOD, 4, "--gateway-url: target URL '127.0.0.1:8080' has no scheme",
                                          ["--gateway-url", "127.0.0.1:8080"]),
    "refused target": Probe(GOOD.replace("{url: demo}", "{url: 'http://127.0.0.1:9'}", 1), 3,
                            "legacy at http://127.0.0.1:9 is unreachable: connection refused"),
    "unresolvable target": Probe(GOOD.replace("{url: demo}", "{url: 'http://no-such-host.invalid'}", 1), 3,
                                 "is unreachable: name does not resolve"),
}


def assert_one_clean_line(run, expected: str, code: int) -> None:
    """The message appears on exactly one line, with no traceback; an exit-3 message is the last line, plain."""
    assert run.rc == code, run.out[-2000:]
    assert "Traceback" not in run.out and "File \"" not in run.out and "INTERNALERROR" not in run.out, run.out[-3000:]
    lines = [line for line in run.out.splitlines() if line.strip()]
    assert len([line for line in lines if expected in line]) == 1, run.out[-2000:]
    if code == 3:
        assert expected in lines[-1] and not lines[-1].startswith("!"), lines[-3:]


@pytest.mark.parametrize("name", list(TABLE))
def test_bad_input_gives_one_line_and_an_exit_code(tmp_path, name):
    probe = TABLE[name]
    contract = tmp_path / "migration.yaml"
    if probe.contract is not None:
        contract.write_text(probe.contract)
    for file, content in probe.files.items():
        (tmp_path / file).write_text(content)
    run = run_suites(tmp_path, "suites", "--contract", str(contract), *probe.args, timeout=120)
    assert_one_clean_line(run, probe.expected, probe.code)
    if probe.absent:
        assert probe.absent not in run.out, run.out[-2000:]


def test_a_refused_gateway_token_stops_the_run_with_one_line_and_no_findings(tmp_path):
    token = f"garbage-token-{uuid.uuid4().hex}"
    contract = demo_contract(tmp_path, ('bearer: "${GATEWAY_TOKEN:-demo}"', f'bearer: "{token}"'))
    run = run_suites(tmp_path, "suites", "--contract", str(contract), "--max-examples=2", timeout=180)
    assert_one_clean_line(run, "the gateway refused the configured token: 401", 3)
    assert token not in run.all_text()
    summary = run.reports / "summary.json"
    if summary.exists():  # written or not, no finding may come out of a run that never judged a case
        assert json.loads(summary.read_text())["findings"] == []
    assert "finding(s)" not in run.out


def test_a_refused_token_from_the_environment_names_no_secret_either(tmp_path):
    with DemoStack() as stack:
        contract = demo_contract(tmp_path)
        token = f"x{uuid.uuid4().hex}"
        run = run_suites(tmp_path, "suites/test_parity.py", "--contract", str(contract), "--max-examples=2",
                         "--legacy-url", stack.legacy_url, "--gateway-url", stack.gateway_url,
                         env={"GATEWAY_TOKEN": token}, timeout=180)
    assert_one_clean_line(run, "the gateway refused the configured token: 401 invalid_token", 3)
    assert token not in run.all_text()


def test_sigterm_after_a_passing_run_leaves_an_interrupted_summary_and_no_stale_junit(tmp_path):
    first = run_suites(tmp_path, "suites/test_parity.py", "-k", "health", "--max-examples=1", timeout=180)
    assert first.rc == 0 and first.summary["interrupted"] is False, first.out[-2000:]
    junit = first.reports / "junit.xml"
    assert junit.exists()
    marker = f"LOCKSTEP_TEST_MARK={uuid.uuid4()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "PYTEST_"))}
    env[marker.split("=")[0]] = marker.split("=")[1]
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "suites/test_parity.py", "-v", "-p", "no:cacheprovider",
                             "--reports", str(first.reports), "--max-examples=30", "--lockstep-seed=5"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    header = []
    for line in proc.stdout:  # bounded by the deadline and by the run's own end
        header.append(line)
        if "PASSED" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert any("seed 5 (option --lockstep-seed)" in line for line in header), "".join(header)[-2000:]
    assert proc.returncode == 2, out[-2000:]  # as on Ctrl-C
    summary = json.loads((first.reports / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["cases"] > 0
    assert not junit.exists() or junit.stat().st_mtime >= started, "the passing run's junit.xml was left behind"
    assert "Traceback" not in out and "requests replayed" not in out  # no HAR line for what never ran


def test_a_parity_only_run_prints_no_har_line(tmp_path):
    run = run_suites(tmp_path, "suites", "-m", "parity", "-k", "health", "--max-examples=1", timeout=180)
    assert run.rc == 0, run.out[-2000:]
    assert "requests replayed" not in run.out and "\nhar:" not in run.out, run.out[-2000:]


SWAGGER = ("swagger: '2.0'\ninfo: {title: t, version: '1'}\nbasePath: /\npaths:\n  /health:\n    get:\n"
           "      responses: {'200': {description: ok}}\n")


def test_suites_with_nothing_to_judge_say_why_not_that_a_parameter_set_is_empty(tmp_path):
    contract = tmp_path / "migration.yaml"
    contract.write_text(OWN_SPEC)
    (tmp_path / "api.yaml").write_text(SWAGGER)
    run = run_suites(tmp_path, "suites", "--contract", str(contract), "-rs", "--max-examples=1", timeout=300)
    assert run.rc == 0, run.out[-3000:]
    assert "got empty parameter set" not in run.out, run.out[-3000:]
    assert "SKIPPED" in run.out


def test_the_demo_help_lists_every_fault_with_a_line_each():
    from lockstep.demo.faults import KNOWN_FAULTS

    out = subprocess.run([sys.executable, "-m", "lockstep.demo", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60).stdout
    for name in KNOWN_FAULTS:
        assert any(line.strip().startswith(name) for line in out.splitlines()), f"{name} not listed:\n{out}"


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
