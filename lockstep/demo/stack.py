"""DemoStack: the legacy API, the auth service and the gateway, as one child process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import jwt

from lockstep.demo.children import end
from lockstep.demo.auth_service import CLIENTS, SCOPES, default_claims
from lockstep.demo.faults import validate_faults
from lockstep.demo.nginx import check_nginx
from lockstep.rates import parse_rate

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # so the child imports this same lockstep
GATEWAYS = ("python", "nginx")


class DemoStack:
    """Start with `start()` (or `with DemoStack(...) as stack:`); every URL is set once started."""

    def __init__(self, faults: Sequence[str] = (), *, upstream_delay_ms: int = 0,
                 rate_limit: str | None = None, spec_path: Path | None = None, gateway: str = "python") -> None:
        if gateway not in GATEWAYS:
            raise ValueError(f"unknown demo gateway {gateway!r}; known: {', '.join(GATEWAYS)}")
        self.gateway_kind = gateway
        self.faults: tuple[str, ...] = validate_faults(faults.split(",") if isinstance(faults, str) else faults)
        if gateway == "nginx":  # before any process starts: one clear line if nginx cannot do it
            check_nginx(self.faults)
        if rate_limit is not None:
            parse_rate(rate_limit)
        if spec_path is not None and not Path(spec_path).is_file():
            raise FileNotFoundError(f"OpenAPI document not found: {spec_path}")
        if upstream_delay_ms < 0:
            raise ValueError("upstream_delay_ms must be >= 0")
        self.upstream_delay_ms, self.rate_limit, self.spec_path = upstream_delay_ms, rate_limit, spec_path
        self.legacy_url = self.gateway_url = self.auth_url = self.token_url = self.jwks_url = ""
        self.issuer = self.audience = self.signing_key_pem = self.kid = ""
        self.pid: int | None = None
        self.gateway_pid: int | None = None  # the nginx process, or the child itself (python gateway)
        self._gateway_dir: str | None = None  # nginx's prefix directory
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._client: httpx.Client | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 20.0) -> DemoStack:
        if self._proc is not None:
            raise RuntimeError("DemoStack already started")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self._stderr, env=self._env(), close_fds=True)
        try:
            self._apply(self._read_ready(timeout))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            end(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._client is not None:
            self._client.close()
            self._client = None
        self._reap_nginx()

    def _reap_nginx(self) -> None:
        """The child stops its nginx, and the kernel signals nginx if the child was killed: make sure."""
        pid, self.gateway_pid = self.gateway_pid, None
        if self.gateway_kind != "nginx" or pid is None:
            return
        deadline = time.monotonic() + 3
        while _is_our_nginx(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_our_nginx(pid):
            os.kill(pid, signal.SIGKILL)
        folder, self._gateway_dir = self._gateway_dir, None
        if folder and Path(folder).name.startswith("lockstep-nginx-"):  # left behind if the child was killed
            shutil.rmtree(folder, ignore_errors=True)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until the child exits (or timeout); its return code, None if still running."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def __enter__(self) -> DemoStack:
        return self if self._proc is not None else self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"DemoStack(faults={list(self.faults)!r}, gateway={self.gateway_kind!r}, "
                f"gateway_url={self.gateway_url!r})")

    def _command(self) -> list[str]:
        cmd = [sys.executable, "-m", "lockstep.demo.serve", "--faults", ",".join(self.faults),
               "--upstream-delay-ms", str(self.upstream_delay_ms), "--gateway", self.gateway_kind]
        if self.rate_limit:
            cmd += ["--rate-limit", self.rate_limit]
        if self.spec_path is not None:
            cmd += ["--spec", str(self.spec_path)]
        return cmd

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _read_ready(self, timeout: float) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        fd, buffer = self._proc.stdout.fileno(), b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._failure(f"not ready after {timeout:.0f} s")
            if select.select([fd], [], [], min(left, 0.2))[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise self._failure(f"exited with code {self._proc.wait(timeout=5)} before it was ready")
                buffer += chunk
        return json.loads(buffer.split(b"\n", 1)[0])

    def _failure(self, what: str) -> RuntimeError:
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read()[-3000:].decode("utf-8", "replace").strip()
        return RuntimeError(f"demo stack {what}" + (f"; its stderr ends with:\n{tail}" if tail else ""))

    def _apply(self, ready: dict[str, Any]) -> None:
        self.legacy_url, self.gateway_url, self.auth_url = ready["legacy_url"], ready["gateway_url"], ready["auth_url"]
        self.token_url = f"{self.auth_url}/oauth/token"
        self.jwks_url = f"{self.auth_url}/.well-known/jwks.json"
        self.issuer, self.audience, self.kid = ready["issuer"], ready["audience"], ready["kid"]
        self.signing_key_pem = ready["signing_key_pem"]
        self.pid, self.gateway_pid = ready["pid"], ready["gateway_pid"]
        self._gateway_dir = ready.get("gateway_dir")

    # ------------------------------------------------------------ tokens

    def token(self, scopes: Sequence[str] | None = None, client: str = "lockstep-demo") -> str:
        """A real token from the auth service (client credentials); all scopes unless given."""
        form = {"grant_type": "client_credentials"}
        if scopes is not None:
            form["scope"] = " ".join(scopes)
        secret = CLIENTS[client].secret if client in CLIENTS else ""
        response = self._http("POST", self.token_url, data=form, auth=(client, secret))
        return str(response.json()["access_token"])

    def mint(self, **claims_overrides: Any) -> str:
        """A token signed locally with the stack's key; a `None` override removes that claim."""
        claims = default_claims("demo-user", SCOPES)
        claims.update(claims_overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.signing_key_pem, algorithm="RS256", headers={"kid": self.kid})

    # ------------------------------------------------------------ legacy control endpoints

    def reset(self) -> None:
        self._http("POST", f"{self.legacy_url}/__demo__/reset")

    def upstream_log(self) -> list[dict[str, Any]]:
        return list(self._http("GET", f"{self.legacy_url}/__demo__/log").json())

    def clear_upstream_log(self) -> None:
        self._http("DELETE", f"{self.legacy_url}/__demo__/log")

    def gateway_log(self) -> list[dict[str, Any]]:
        """Every request the gateway received (method, path, time), its own answers included."""
        if self.gateway_kind != "python":
            raise RuntimeError(f"the {self.gateway_kind} demo gateway keeps no request log")
        return list(self._http("GET", self.gateway_url.rsplit("/api", 1)[0] + "/__demo__/log").json())

    def _http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if not self.running():
            raise RuntimeError("DemoStack is not running (call start())")
        if self._client is None:
            self._client = httpx.Client(trust_env=False, timeout=10.0)
        response = self._client.request(method, url, **kwargs)
        response.raise_for_status()
        return response


def _is_our_nginx(pid: int) -> bool:
    """A live (not zombie) nginx run from a lockstep prefix directory: never signal anything else."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and b"nginx" in cmdline and b"lockstep-nginx-" in cmdline
