"""The fault zoo in nginx: each fault is an edit of the generated files, the mistake a team would make there.

An edit names the exact text it changes and fails loudly (FaultFormError) if the generated files no
longer hold it, so a change to config.py cannot silently turn a fault into a no-op. Faults that need
njs logic switch a hook to faults.js (idempotent, so faults combine) and turn on their `$fault_*` flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from lockstep.demo.faults import KNOWN_FAULTS

Files = dict[str, str]
Edit = Callable[[Files], None]
FAULTS_JS = Path(__file__).resolve().parent / "faults.js"
CONF, PROXY, JS = "nginx.conf", "legacy-proxy.conf", "lockstep.js"
_HTML_4XX = "400 401 402 403 404 405 406 407 408 409 410 411 412 413 414 415 416 417 421 422 423 424 425 426 " \
            "428 431 451"  # every 4xx but the gateway's own 429

__all__ = ["NGINX_FAULTS", "PYTHON_ONLY", "UnsupportedFaultError", "FaultFormError", "apply_faults", "check_faults"]


class UnsupportedFaultError(ValueError):
    """A fault of the zoo that has no nginx form; the message lists those that have one."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        super().__init__(f"the nginx demo gateway has no form of {', '.join(self.names)}; "
                         f"it supports: {', '.join(NGINX_FAULTS)}")


class FaultFormError(RuntimeError):
    """A fault's edit no longer finds the text it changes (config.py changed under it): a bug here."""


def replace(files: Files, name: str, old: str, new: str, count: int | None = 1) -> None:
    """Replace `old` by `new` in one file: exactly `count` times (None: at least once)."""
    found = files[name].count(old)
    if found == 0 or (count is not None and found != count):
        raise FaultFormError(f"{name}: expected {count or 'some'} of {old!r}, found {found}")
    files[name] = files[name].replace(old, new)


def sub(files: Files, name: str, pattern: str, new: str | Callable[[re.Match[str]], str]) -> None:
    text, found = re.subn(pattern, new, files[name], flags=re.M | re.S)
    if not found:
        raise FaultFormError(f"{name}: nothing matches {pattern!r}")
    files[name] = text


def add_http(files: Files, line: str) -> None:
    """One line in the http block, after the js_import of lockstep.js (once)."""
    anchor = "    js_import lockstep from lockstep.js;\n"
    if f"    {line}\n" not in files[CONF]:
        replace(files, CONF, anchor, anchor + f"    {line}\n")


def hook(files: Files, name: str, old: str, new: str) -> None:
    """Switch a hook from lockstep.js to faults.js, wherever it is; a no-op if another fault did."""
    if old in files[name]:
        replace(files, name, old, new, count=None)
    elif new not in files[name]:
        raise FaultFormError(f"{name}: neither {old!r} nor {new!r}")


def location(files: Files, template: str) -> tuple[int, int]:
    """Start and end of the route block of `template` in nginx.conf (its comment line included)."""
    found = re.search(rf"^        # {re.escape(template)}: .*?^        }}\n", files[CONF], flags=re.M | re.S)
    if found is None:
        raise FaultFormError(f"{CONF}: no location for {template}")
    return found.start(), found.end()


def in_location(files: Files, template: str, pattern: str, new: str) -> None:
    """Replace the one match of `pattern` (a regex) in the route block of `template`."""
    start, end = location(files, template)
    block, found = re.subn(pattern, new, files[CONF][start:end])
    if found != 1:
        raise FaultFormError(f"{CONF}: {template}: expected one match of {pattern!r}, found {found}")
    files[CONF] = files[CONF][:start] + block + files[CONF][end:]


def _unchanged(files: Files) -> None:
    """A fault of the auth service, not of the gateway: nginx stays as generated."""


def use_faults_js(files: Files) -> None:
    files.setdefault("faults.js", FAULTS_JS.read_text(encoding="utf-8"))
    add_http(files, "js_import faults from faults.js;")


def fault_flag(files: Files, name: str) -> None:
    """faults.js imported, and its `$fault_<name>` flag on."""
    use_faults_js(files)
    add_http(files, f"js_var $fault_{name} 1;")


def add_server(files: Files, block: str) -> None:
    """A location, before the no-route fallback (regex locations are tried in order, prefix ones first)."""
    anchor = "        location / { js_content lockstep.notFound; }"
    replace(files, CONF, anchor, block + anchor)


def in_legacy(files: Files, lines: str) -> None:
    """Directives of @legacy only: where protected operations go after lockstep.authorize."""
    anchor = "        location @legacy {\n            include legacy-proxy.conf;\n"
    replace(files, CONF, anchor, anchor + lines)


def operation_of(files: Files, method: str, template: str) -> str:
    found = re.search(rf"^        # {re.escape(template)}: (?:.*, )?{method} (\w+) ", files[CONF], flags=re.M)
    if found is None:
        raise FaultFormError(f"{CONF}: no {method} {template}")
    return found[1]


# ---------------------------------------------------------------- the edits, one per fault

def missing_route(files: Files) -> None:
    """The team's route list forgets GET /deliveries/{delivery_id} (its only operation): no location."""
    from lockstep.demo.gateway import FORGOTTEN_ROUTE

    start, end = location(files, FORGOTTEN_ROUTE[1])
    files[CONF] = files[CONF][:start] + files[CONF][end:]


def status_rewrite(files: Files) -> None:
    fault_flag(files, "created_as_ok")
    hook(files, CONF, "js_content lockstep.authorize;", "js_content faults.authorize;")
    add_server(files, "        location = /_lockstep/relay { internal; include legacy-proxy.conf; }\n")


def drop_cache_control(files: Files) -> None:
    files[PROXY] += "proxy_hide_header Cache-Control;\n"


def drop_null_fields(files: Files) -> None:
    fault_flag(files, "drop_nulls")
    hook(files, PROXY, "js_header_filter lockstep.relayHeaders;", "js_header_filter faults.relayHeaders;")
    files[PROXY] += "js_body_filter faults.bodyWithoutNulls buffer_type=buffer;\n"


def query_plus_decoded(files: Files) -> None:
    use_faults_js(files)
    add_http(files, "js_set $fault_decoded_uri faults.decodedQueryUri;")
    replace(files, PROXY, "proxy_pass http://legacy$upstream_uri;", "proxy_pass http://legacy$fault_decoded_uri;")


def error_body_not_json(files: Files) -> None:
    """The classic: upstream errors intercepted into an HTML error page (error_page at location level
    replaces the server's, so those are repeated)."""
    server_pages = "".join(line.strip() + "\n" for line in re.findall(r"^        error_page .*$", files[CONF], re.M))
    files[PROXY] += f"proxy_intercept_errors on;\nerror_page {_HTML_4XX} @html_error;\n{server_pages}"
    add_server(files, '        location @html_error { default_type text/html; charset utf-8; '
                      'return 200 "<html><body><h1>Error $status</h1></body></html>"; }\n')


def cors_no_authorization_header(files: Files) -> None:
    def without(m: re.Match[str]) -> str:
        kept = [h for h in m[2].split(", ") if h.lower() != "authorization"]
        return f'{m[1]}"{", ".join(kept)}"'
    sub(files, CONF, r'(map \$cors_preflight \$cors_allow_headers \{ 1 )"([^"]*)"', without)


def cors_preflight_needs_auth(files: Files) -> None:
    """Preflights of protected routes go through auth first; authenticated, they get their 204."""
    hook(files, CONF, "js_content lockstep.authorize;", "js_content faults.authorize;")
    use_faults_js(files)
    replace(files, CONF, "            if ($cors_kind = preflight) { return 204; }  # before auth: a preflight "
                         "carries no token\n", "", count=None)
    ops = re.findall(r'^        "(r\d+) ([A-Z]+)" (\w+);$', files[CONF], re.M)
    first: dict[str, str] = {}
    for rid, _, op in ops:
        first.setdefault(rid, op)
    asked = "".join(f'        "{rid} {method}" {op};\n' for rid, method, op in ops)
    asked += "".join(f'        "~^{rid} " {op};\n' for rid, op in first.items())  # else the route's first
    replace(files, CONF, 'map "$route $request_method" $op_id {',
            f'map "$route $http_access_control_request_method" $preflight_op {{\n{asked}        default "";\n    }}\n'
            '    map $request_method $op_id { OPTIONS $preflight_op; default $method_op; }\n'
            '    map "$route $request_method" $method_op {')


def cors_wildcard_with_credentials(files: Files) -> None:
    sub(files, CONF, r"map \$http_origin \$cors_origin \{.*?\n    \}", 'map $http_origin $cors_origin { default "*"; }')


def auth_open_route(files: Files) -> None:
    from lockstep.demo.gateway import OPEN_ROUTE

    op = operation_of(files, *OPEN_ROUTE)
    replace(files, CONF, f"        {op} 0;\n", f"        {op} 1;\n")


def auth_scheme_case_sensitive(files: Files) -> None:
    replace(files, JS, "if (scheme.toLowerCase() !== 'bearer') {", "if (scheme !== 'Bearer') {")


def auth_expired_accepted(files: Files) -> None:
    replace(files, JS, "    if (!(int(c.exp) > now - leeway)) { return false; }  // expired (exp, with leeway)\n",
            "    // exp: required above, its value not checked\n")


def auth_alg_none_accepted(files: Files) -> None:
    anchor = "    if (header.alg !== 'RS256' || typeof header.kid !== 'string') {"
    replace(files, JS, anchor, "    if (typeof header.alg === 'string' && header.alg.toLowerCase() === 'none') {\n"
                               "        return validClaims(r, claims) ? claims : null;  // unsigned, and let in\n"
                               "    }\n" + anchor)


def drop_request_body_field(files: Files) -> None:
    use_faults_js(files)
    add_http(files, "js_set $fault_body faults.bodyWithoutNote;")
    in_legacy(files, "            proxy_set_body $fault_body;\n")


def slow_route(files: Files) -> None:
    """150 ms of njs timer before the route's usual check (faults.authorize: it combines with the others)."""
    from lockstep.demo.gateway import SLOW_ROUTE

    use_faults_js(files)
    in_location(files, SLOW_ROUTE[1], r"js_content (?:lockstep|faults)\.authorize;", "js_content faults.slowly;")


def expose_internal(files: Files) -> None:
    from lockstep.demo.gateway import INTERNAL_PREFIX, PREFIX

    add_server(files, f"        location ^~ {PREFIX}{INTERNAL_PREFIX} {{   # as the old DNS did: no auth\n"
                      "            include legacy-proxy.conf;\n        }\n")


def identity_trusted_on_public(files: Files) -> None:
    """Public routes skip the optional token, and each identity line sends what the client sent where no
    token named the caller: a team keeping the old session layer's header for anonymous calls."""
    from lockstep.demo.gateway import IDENTITY_HEADERS

    def trusting(m: re.Match[str]) -> str:
        if m[1].lower() not in IDENTITY_HEADERS:
            return m[0]
        var = m[1].lower().replace("-", "_")
        add_http(files, f'map $jwt_sub $fault_{var} {{ "" $http_{var}; default {m[2]}; }}')
        return f"proxy_set_header {m[1]} $fault_{var};\n"

    replace(files, PROXY, "# identity: only the token's subject, never what the client sent",
            "# identity: the token's subject, else what the client sent (as the old session layer had it)")
    before = files[PROXY]
    sub(files, PROXY, r"^proxy_set_header ([A-Za-z-]+) (\S+);[^\n]*\n", trusting)
    if files[PROXY] == before:
        raise FaultFormError(f"{PROXY}: no identity header lines")
    fault_flag(files, "trust_identity")
    hook(files, CONF, "js_content lockstep.authorize;", "js_content faults.authorize;")


NGINX_FAULTS: dict[str, Edit] = {
    "missing-route": missing_route, "status-rewrite": status_rewrite, "drop-cache-control": drop_cache_control,
    "drop-null-fields": drop_null_fields, "query-plus-decoded": query_plus_decoded,
    "error-body-not-json": error_body_not_json, "cors-no-authorization-header": cors_no_authorization_header,
    "cors-preflight-needs-auth": cors_preflight_needs_auth,
    "cors-wildcard-with-credentials": cors_wildcard_with_credentials, "auth-open-route": auth_open_route,
    "auth-scheme-case-sensitive": auth_scheme_case_sensitive, "auth-expired-accepted": auth_expired_accepted,
    "auth-alg-none-accepted": auth_alg_none_accepted, "drop-request-body-field": drop_request_body_field,
    "slow-route": slow_route, "expose-internal": expose_internal,
    "identity-trusted-on-public": identity_trusted_on_public,
    "auth-slow-signing": _unchanged, "auth-pool-exhausted": _unchanged,  # the auth service's, not nginx's
}


# faults deliberately left without an nginx form (asking nginx for one is an UnsupportedFaultError)
PYTHON_ONLY: frozenset[str] = frozenset()


def check_faults(faults: Iterable[str]) -> None:
    missing = [f for f in faults if f not in NGINX_FAULTS]
    if missing:
        raise UnsupportedFaultError(missing)


def apply_faults(files: Files, faults: Iterable[str]) -> Files:
    """The generated files with each fault's edit applied, in order (a copy)."""
    out = dict(files)
    for name in faults:
        if name not in KNOWN_FAULTS:
            raise UnsupportedFaultError([name])
        NGINX_FAULTS[name](out)
    return out
