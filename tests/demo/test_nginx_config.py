"""The nginx gateway's generated files and fault forms, without serving anything (nginx -t aside)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lockstep.demo import KNOWN_FAULTS, DemoStack
from lockstep.demo import __main__ as demo_cli
from lockstep.demo.nginx import NGINX_FAULTS, NginxUnavailableError, UnsupportedFaultError, process
from lockstep.demo.nginx.config import Site, location_regex, nginx_rate, render
from lockstep.demo.nginx.faults import PYTHON_ONLY, FaultFormError, apply_faults, replace
from lockstep.demo.routes import RouteTable, load_spec

SPEC = load_spec()
AUTH_SERVICE_FAULTS = {"auth-slow-signing", "auth-pool-exhausted"}  # the auth service's: nginx unchanged


def files_for(prefix: Path, rate_limit: str | None = None) -> dict[str, str]:
    module = process.find_module() or "/usr/lib/nginx/modules/ngx_http_js_module.so"
    return render(SPEC, Site(prefix, module, 18080, "127.0.0.1:18081", "127.0.0.1:18082"), rate_limit)


def nginx_accepts(prefix: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (prefix / name).write_text(text, encoding="utf-8")
    binary, _ = process.find_nginx()
    return subprocess.run([binary, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                           str(prefix / "error.log")], capture_output=True, text=True, timeout=30)


needs_nginx = pytest.mark.skipif(process.find_binary() is None or process.find_module() is None,
                                 reason=f"nginx with njs is not installed ({process.INSTALL})")


def test_every_route_of_the_document_has_its_location(tmp_path: Path) -> None:
    conf = files_for(tmp_path)["nginx.conf"]
    table = RouteTable.from_spec(SPEC)
    public_map = re.search(r"map \$op_id \$op_public \{(.*?)\n    \}", conf, re.S)
    assert public_map is not None
    for route in table.routes:
        assert f'location ~ "{location_regex(route.template)}"' in conf, route.template
        for op in route.operations.values():
            assert f"        {op.operation_id} {1 if op.public else 0};" in public_map[1].splitlines(), op
    # every route goes through the token check: protected ones refuse, public ones take an optional token
    assert conf.count("js_content lockstep.authorize;") == len(table.routes)


def pcre(template: str) -> re.Pattern[str]:
    return re.compile(location_regex(template).replace("\\z", "\\Z"))  # PCRE's \z is Python's \Z


def test_location_regexes_match_like_the_route_table() -> None:
    pattern = pcre("/recipes/{recipe_id}")
    assert pattern.search("/api/recipes/r-004") and pattern.search("/api/v1/recipes/r-004")  # the alias
    assert not pattern.search("/api/recipes/a/b") and not pcre("/health").search("/api/health\n")
    assert not pcre("/health").search("/api/v1/health") and pcre("/menus/{week}").search("/api/menus/\n")
    for route in RouteTable.from_spec(SPEC).routes:  # the same decisions as the route table's
        for path in ("/recipes/r-1\n", "/menus/%0A", "/health/", "/users/me", "/deliveries/d-1/skip"):
            assert bool(pcre(route.template).search("/api" + path)) == bool(route.pattern.fullmatch(path))


def test_rates_and_bursts_become_limit_req_lines(tmp_path: Path) -> None:
    assert nginx_rate(100) == "100r/s" and nginx_rate(0.05) == "3r/m" and nginx_rate(2.5) == "150r/m"
    conf = files_for(tmp_path)["nginx.conf"]
    assert "rate=20r/s;  # 20/s, burst 30" in conf and "burst=29 nodelay;" in conf  # /health's own limit
    limited = files_for(tmp_path, "3/min")["nginx.conf"]
    assert re.findall(r"rate=(\S+);", limited) == ["3r/m"] and "burst=2 nodelay;" in limited
    assert "        default 20;" in limited  # Retry-After: one refill of the bucket


def test_identity_headers_are_cleared_for_every_proxied_request(tmp_path: Path) -> None:
    proxy = files_for(tmp_path)["legacy-proxy.conf"]
    for name in ("X-User-Id $jwt_sub", 'X-Consumer-Id ""', 'X-Forwarded-User ""', 'X-Authenticated-Userid ""',
                 'Authorization ""'):
        assert f"proxy_set_header {name};" in proxy


def test_every_fault_of_the_zoo_has_an_nginx_form_that_changes_the_files(tmp_path: Path) -> None:
    assert set(NGINX_FAULTS) | PYTHON_ONLY == set(KNOWN_FAULTS), set(KNOWN_FAULTS) ^ set(NGINX_FAULTS)
    faithful = files_for(tmp_path)
    for fault in NGINX_FAULTS:
        changed = apply_faults(faithful, [fault])
        assert (changed == faithful) == (fault in AUTH_SERVICE_FAULTS), fault
    assert files_for(tmp_path) == faithful  # applying never edits the caller's copy


def test_an_edit_that_no_longer_finds_its_text_is_an_error() -> None:
    with pytest.raises(FaultFormError, match="expected 1 of 'nothing here'"):
        replace({"nginx.conf": "x"}, "nginx.conf", "nothing here", "y")


@needs_nginx
@pytest.mark.parametrize("faults", [[], *([f] for f in NGINX_FAULTS if f not in AUTH_SERVICE_FAULTS),
                                    [f for f in NGINX_FAULTS if f != "missing-route"]],
                         ids=lambda faults: "+".join(faults) if len(faults) < 3 else "all-combined")
def test_nginx_accepts_the_generated_config(tmp_path: Path, faults: list[str]) -> None:
    checked = nginx_accepts(tmp_path, apply_faults(files_for(tmp_path), faults))
    assert checked.returncode == 0, checked.stderr


def test_missing_nginx_is_one_line_naming_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "find_binary", lambda: None)
    with pytest.raises(NginxUnavailableError) as caught:
        DemoStack(gateway="nginx")
    message = str(caught.value)
    assert "\n" not in message and message.endswith("apt-get install nginx libnginx-mod-http-js")
    assert DemoStack().gateway_kind == "python"  # the python gateway does not need it


def test_missing_njs_module_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "find_binary", lambda: "/usr/sbin/nginx")
    monkeypatch.setattr(process, "find_module", lambda: None)
    with pytest.raises(NginxUnavailableError, match=r"ngx_http_js_module\.so.*libnginx-mod-http-js$"):
        DemoStack(gateway="nginx")


def test_cli_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(process, "find_binary", lambda: None)
    assert demo_cli.main(["--gateway", "nginx"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lockstep.demo: the nginx demo gateway needs nginx")


def test_a_fault_without_nginx_form_is_refused_naming_the_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(NGINX_FAULTS, "slow-route")
    with pytest.raises(UnsupportedFaultError) as caught:
        DemoStack(["drop-cache-control", "slow-route"], gateway="nginx")
    assert "no form of slow-route;" in str(caught.value) and "drop-cache-control" in str(caught.value)
    assert DemoStack(["slow-route"]).faults == ("slow-route",)  # the python gateway still has it


def test_unknown_gateway_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown demo gateway 'envoy'; known: python, nginx"):
        DemoStack(gateway="envoy")


def test_help_lists_every_fault_with_its_description(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        demo_cli.main(["--help"])
    out = capsys.readouterr().out
    for name, text in KNOWN_FAULTS.items():
        assert re.search(rf"^  {re.escape(name)} +{re.escape(text)}", out, re.M), name
    assert "--gateway {python,nginx}" in out
