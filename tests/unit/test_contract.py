from pathlib import Path

import pytest

from lockstep.contract import load_contract
from lockstep.errors import ContractError

SPEC = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "api.yaml").write_text(SPEC)
    path = tmp_path / "migration.yaml"
    path.write_text(text)
    return path


BASE = "spec: api.yaml\ntargets:\n  legacy: {url: 'http://127.0.0.1:1'}\n  gateway: {url: '${GW_URL}', auth: {bearer: '${TOKEN}'}}\n"


def test_substitutes_variables_and_keeps_secrets_secret(tmp_path):
    contract = load_contract(write(tmp_path, BASE), env={"GW_URL": "http://127.0.0.1:2", "TOKEN": "s3cret-token"})
    assert contract.targets.gateway.url == "http://127.0.0.1:2"
    assert "s3cret-token" not in repr(contract)
    assert contract.targets.gateway.auth.bearer.get_secret_value() == "s3cret-token"


def test_default_syntax_applies_when_variable_is_unset(tmp_path):
    path = write(tmp_path, BASE.replace("${GW_URL}", "${GW_URL:-demo}"))
    assert load_contract(path, env={"TOKEN": "x"}).targets.gateway.url == "demo"


def test_missing_variable_names_file_key_and_variable(tmp_path):
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, BASE), env={"GW_URL": "http://127.0.0.1:2"})
    text = str(err.value)
    assert "migration.yaml: targets.gateway.auth.bearer" in text and "${TOKEN}" in text


def test_unknown_key_suggests_the_close_one(tmp_path):
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, BASE + "compar: {}\n"), env={"GW_URL": "x", "TOKEN": "y"})
    assert "unknown key 'compar'" in str(err.value) and "did you mean 'compare'" in str(err.value)


def test_nested_unknown_key_lists_that_level(tmp_path):
    text = BASE.replace("{url: 'http://127.0.0.1:1'}", "{url: 'http://127.0.0.1:1', prefx: /api}")
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, text), env={"GW_URL": "x", "TOKEN": "y"})
    assert "targets.legacy.prefx" in str(err.value) and "did you mean 'prefix'" in str(err.value)


def test_wrong_type_never_echoes_a_secret(tmp_path):
    text = BASE + "compare: {max_body_bytes: lots}\n"
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, text), env={"GW_URL": "x", "TOKEN": "y"})
    assert "compare.max_body_bytes" in str(err.value)


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, "spec: api.yaml\ntargets: {legacy: [\n"), env={})
    assert "line" in str(err.value) and "column" in str(err.value)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ContractError, match="--contract"):
        load_contract(tmp_path / "nope.yaml", env={})


def test_missing_spec_file(tmp_path):
    path = write(tmp_path, BASE.replace("api.yaml", "other.yaml"))
    with pytest.raises(ContractError, match="does not exist"):
        load_contract(path, env={"GW_URL": "x", "TOKEN": "y"})


def test_bad_rate_is_rejected(tmp_path):
    text = BASE.replace("{url: 'http://127.0.0.1:1'}", "{url: 'http://127.0.0.1:1', rate: fast}")
    with pytest.raises(ContractError, match="N/s"):
        load_contract(write(tmp_path, text), env={"GW_URL": "x", "TOKEN": "y"})
