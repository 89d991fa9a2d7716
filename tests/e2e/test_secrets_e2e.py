"""Secrets never reach an output: every suite, against an external pair, with a token from a token URL
(client credentials) and the staging signing key from the environment. Terminal, JUnit, Allure, the
summary and the reproducers are scanned for the secrets themselves and for anything JWT-shaped."""

import re

import pytest

from lockstep.demo import DemoStack

from .runner import demo_contract, run_suites

pytestmark = pytest.mark.e2e

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


def test_no_token_key_or_client_secret_reaches_any_output(tmp_path):
    contract = demo_contract(tmp_path, ('auth: {bearer: "${GATEWAY_TOKEN:-demo}"}', 'auth: {token_url: "${TOKEN_URL}", '
                             'client_id: lockstep-demo, client_secret: "${CLIENT_SECRET}"}'))
    with DemoStack(["status-rewrite", "auth-alg-none-accepted"]) as stack:
        env = {"TOKEN_URL": stack.token_url, "CLIENT_SECRET": "demo-secret", "AUTH_SIGNING_KEY": stack.signing_key_pem,
               "AUTH_ISSUER": stack.issuer, "AUTH_AUDIENCE": stack.audience, "AUTH_JWKS_URL": stack.jwks_url,
               "AUTH_KID": stack.kid}
        token = stack.token()
        run = run_suites(tmp_path, "suites", "--contract", str(contract), "--legacy-url", stack.legacy_url,
                         "--gateway-url", stack.gateway_url, "--lockstep-seed=6", "--max-examples=4", env=env)
        key_lines = [line for line in stack.signing_key_pem.splitlines() if "-----" not in line]
    assert run.rc == 1, run.out[-3000:]  # the seeded faults are found ...
    flows = {f["flow"] for f in run.findings()}
    assert {"parity", "auth"} <= flows, flows
    text = run.all_text()  # ... and nothing secret is written while reporting them
    assert "demo-secret" not in text
    assert token[:60] not in text and token.split(".")[2][:20] not in text
    assert not any(line in text for line in key_lines)
    assert JWT.search(text) is None, JWT.search(text).group(0)[:20]
    assert "$GATEWAY_TOKEN" in text or "$VARIANT_TOKEN" in text
