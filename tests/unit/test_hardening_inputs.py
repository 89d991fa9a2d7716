"""Usage errors are one line naming the option or the key; a refused gateway token stops the run once."""

from pathlib import Path

import httpx
import pytest

from lockstep.contract import TargetSpec, check_target_url, load_contract
from lockstep.errors import ContractError, TargetUnreachable
from lockstep.settings import resolve_settings
from lockstep.targets import Target, check_credentials

SPEC = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
SECRET = "s3cret-value-never-shown"


def contract_file(tmp_path: Path, gateway: str = "{url: demo}", legacy: str = "{url: demo}") -> Path:
    (tmp_path / "api.yaml").write_text(SPEC)
    path = tmp_path / "migration.yaml"
    path.write_text(f"spec: api.yaml\ntargets:\n  legacy: {legacy}\n  gateway: {gateway}\n")
    return path


def settings(tmp_path: Path, **options):
    args = {"contract": str(contract_file(tmp_path)), "legacy_url": None, "gateway_url": None, "profile": None,
            "seed": "1", "demo_faults": None, "max_examples": None, "env": {}}
    return resolve_settings(**{**args, **options})


def error(call) -> str:
    with pytest.raises(ContractError) as err:
        call()
    text = str(err.value)
    assert "\n" not in text
    return text


# -- ${...} in the contract ----------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("${GATEWAY_TOKEN", "${GATEWAY_TOKEN is never closed with '}': write ${GATEWAY_TOKEN}"),
    ("Bearer ${GATEWAY_TOKEN", "${GATEWAY_TOKEN is never closed"),
    ("${}", "${} names no variable"),
    ("${1X}", "${1X} is not a variable name"),
    ("${A} and ${B", "${B is never closed"),
])
def test_a_malformed_variable_is_a_contract_error_naming_file_and_key(tmp_path, value, expected):
    path = contract_file(tmp_path, gateway=f"{{url: demo, auth: {{bearer: '{value}'}}}}")
    text = error(lambda: load_contract(path, env={"GATEWAY_TOKEN": SECRET, "A": "a", "B": "b"}))
    assert f"{path}: targets.gateway.auth.bearer: malformed variable: " in text and expected in text
    assert SECRET not in text


def test_a_malformed_variable_never_echoes_what_could_be_a_secret(tmp_path):
    path = contract_file(tmp_path, gateway=f"{{url: demo, auth: {{bearer: 'x${{{SECRET}'}}}}")
    text = error(lambda: load_contract(path, env={}))
    assert "never closed" in text and SECRET not in text


def test_well_formed_variables_still_substitute(tmp_path):
    path = contract_file(tmp_path, gateway="{url: '${GW:-demo}', auth: {bearer: 'x-${T}-y'}}")
    contract = load_contract(path, env={"T": "tok"})
    assert contract.targets.gateway.url == "demo"
    assert contract.targets.gateway.auth.bearer.get_secret_value() == "x-tok-y"


# -- target URLs ---------------------------------------------------------------------------------
def test_a_url_without_a_scheme_says_how_to_write_it(tmp_path):
    text = error(lambda: settings(tmp_path, legacy_url="localhost:1234"))
    assert text == "--legacy-url: target URL 'localhost:1234' has no scheme: write http://localhost:1234 (or https://...)"


def test_a_contract_url_without_a_scheme_names_the_file_and_key(tmp_path):
    path = contract_file(tmp_path, gateway="{url: '127.0.0.1:8080'}")
    text = error(lambda: resolve_settings(contract=str(path), legacy_url=None, gateway_url=None, profile=None,
                                          seed="1", demo_faults=None, max_examples=None, env={}))
    assert text.startswith(f"{path}: targets.gateway.url: target URL '127.0.0.1:8080' has no scheme")


def test_an_option_overrides_a_bad_contract_url(tmp_path):
    path = contract_file(tmp_path, gateway="{url: 'localhost:1'}")
    chosen = resolve_settings(contract=str(path), legacy_url=None, gateway_url="http://127.0.0.1:9", profile=None,
                              seed="1", demo_faults=None, max_examples=None, env={})
    assert chosen.gateway_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("url, expected", [
    ("ftp://host", "is not an http or https URL"), ("http://", "names no host"), ("", "is empty"),
    ("http://h:99999", "port"), ("user:pw@host:1", "the target URL has no scheme: write http://HOST:PORT"),
])
def test_other_unusable_urls(url, expected):
    text = error(lambda: check_target_url(url, where="--gateway-url"))
    assert expected in text and "pw@" not in text


# -- options -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [-1, 0])
def test_max_examples_below_one_is_rejected_not_replaced(tmp_path, value):
    text = error(lambda: settings(tmp_path, max_examples=value))
    assert text == f"--max-examples: must be 1 or more (generated cases per operation), got {value}"


def test_max_examples_one_is_honoured(tmp_path):
    chosen = settings(tmp_path, max_examples=1)
    assert chosen.examples == 1 and "max examples 1;" in chosen.header_lines()[1]


@pytest.mark.parametrize("value", ["abc", "0/s", "-1/s", "5"])
def test_a_bad_demo_rate_limit_names_the_option(tmp_path, value):
    text = error(lambda: settings(tmp_path, demo_rate_limit=value))
    assert text.startswith(f"--demo-rate-limit: rate {value!r} is not of the form N/s or N/min")


def test_the_seed_is_labelled_by_its_real_option(tmp_path):
    assert error(lambda: settings(tmp_path, seed="x")).startswith("option --lockstep-seed: seed must be a whole number")
    assert "seed 7 (option --lockstep-seed)" in settings(tmp_path, seed="7").header_lines()[1]


def test_reports_must_be_a_directory(tmp_path):
    file = tmp_path / "taken"
    file.write_text("x")
    assert error(lambda: settings(tmp_path, reports=str(file))) == \
        f"--reports: '{file}' is a file: pass a directory (created if missing)"
    assert "is a file" in error(lambda: settings(tmp_path, reports=str(file / "sub")))
    assert settings(tmp_path, reports=str(tmp_path / "new" / "reports")).reports == tmp_path / "new" / "reports"


# -- the gateway's credentials, checked once at start ----------------------------------------------
def gateway(handler, token: str | None = SECRET) -> Target:
    return Target("gateway", TargetSpec(url="http://127.0.0.1:9", prefix="/api"), token=token,
                  transport=httpx.MockTransport(handler))


def refusing(status: int, challenge: str):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers={"www-authenticate": challenge})

    return handler, seen


def test_a_refused_token_is_one_line_without_the_token():
    handler, seen = refusing(401, f'Bearer realm="api", error="invalid_token", error_description="bad {SECRET}"')
    with pytest.raises(TargetUnreachable) as err:
        check_credentials(gateway(handler), "/users/me")
    text = str(err.value)
    assert text.startswith("the gateway refused the configured token: 401 invalid_token (bad [redacted]) "
                           "on GET /users/me; check the token")
    assert SECRET not in text and "\n" not in text
    assert len(seen) == 1 and str(seen[0].url) == "http://127.0.0.1:9/api/users/me"
    assert seen[0].headers["authorization"] == f"Bearer {SECRET}"


def test_a_token_lacking_scope_is_refused_with_the_scope():
    handler, _ = refusing(403, 'Bearer error="insufficient_scope", scope="profile"')
    with pytest.raises(TargetUnreachable, match="403 insufficient_scope \\(needs scope profile\\)"):
        check_credentials(gateway(handler), "/users/me")


def test_no_token_at_all_says_to_configure_one():
    handler, _ = refusing(401, "Bearer")
    with pytest.raises(TargetUnreachable, match="refused a request without a token: 401 on GET /me; give"):
        check_credentials(gateway(handler, token=None), "/me")


@pytest.mark.parametrize("status", [200, 404, 500])
def test_any_other_answer_leaves_it_to_the_flows(status):
    check_credentials(gateway(lambda r: httpx.Response(status)), "/users/me")


def test_the_credential_check_never_sends_an_unsafe_method():
    with pytest.raises(ValueError):
        check_credentials(gateway(lambda r: httpx.Response(200)), "/users/me", method="DELETE")


def test_the_nginx_demo_gateway_without_nginx_is_one_usage_line(tmp_path, monkeypatch) -> None:
    import lockstep.demo.nginx as nginx
    from lockstep.errors import ContractError
    from lockstep.settings import resolve_settings

    def missing(faults=()):
        raise nginx.NginxUnavailableError("nginx not found: apt-get install nginx libnginx-mod-http-js")

    monkeypatch.setattr(nginx, "check_nginx", missing)
    (tmp_path / "api.yaml").write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    (tmp_path / "migration.yaml").write_text("spec: api.yaml\ntargets: {legacy: {url: demo}, gateway: {url: demo}}\n")
    try:
        resolve_settings(contract=str(tmp_path / "migration.yaml"), legacy_url=None, gateway_url=None, profile=None,
                         seed="1", demo_faults=None, max_examples=None, demo_gateway="nginx", env={})
    except ContractError as exc:
        assert "apt-get install nginx libnginx-mod-http-js" in str(exc) and "--demo-gateway" in str(exc)
    else:
        raise AssertionError("no error without nginx")
