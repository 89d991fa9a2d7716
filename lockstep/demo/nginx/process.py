"""Run the generated nginx: its own prefix directory, a free loopback port, and no way to outlive its parent.

nginx runs in the foreground as one process (`daemon off; master_process off`), a child of the demo's
serve process, with PR_SET_PDEATHSIG: if that process dies, even by SIGKILL, the kernel sends nginx
SIGTERM. stop() terminates it and removes the prefix directory.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lockstep.demo.children import end
from lockstep.demo.nginx.faults import apply_faults, check_faults

BINARY_DIRS = "/usr/sbin:/usr/local/sbin:/usr/local/nginx/sbin"
MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules", "/usr/local/nginx/modules")
MODULE = "ngx_http_js_module.so"
INSTALL = "apt-get install nginx libnginx-mod-http-js"
PORT_TRIES = 3
_PR_SET_PDEATHSIG = 1

__all__ = ["NginxUnavailableError", "NginxGateway", "find_nginx"]


class NginxUnavailableError(RuntimeError):
    """nginx or its njs module is not installed; the message names the packages."""


def find_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path=BINARY_DIRS)


def find_module() -> str | None:
    return next((str(Path(d, MODULE)) for d in MODULE_DIRS if Path(d, MODULE).is_file()), None)


def find_nginx() -> tuple[str, str]:
    """The nginx binary and the njs module's path; NginxUnavailableError (one line) if either is missing."""
    binary, module = find_binary(), find_module()
    if binary is None:
        raise NginxUnavailableError(f"the nginx demo gateway needs nginx, which is not installed: {INSTALL}")
    if module is None:
        raise NginxUnavailableError("the nginx demo gateway needs nginx's njs module "
                                    f"({MODULE}, not found in {', '.join(MODULE_DIRS)}): {INSTALL}")
    return binary, module


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _host_port(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


class NginxGateway:
    """`start()` -> `url` (prefix not included) and `pid`; `stop()` is idempotent.

    PR_SET_PDEATHSIG fires when the *thread* that forked exits: start it from a thread that lives as
    long as the gateway should (serve.py uses its main thread).
    """

    def __init__(self, spec: dict[str, Any], legacy_url: str, auth_url: str, *, faults: tuple[str, ...] = (),
                 rate_limit: str | None = None) -> None:
        self.binary, self.module = find_nginx()
        check_faults(faults)
        self.spec, self.legacy, self.auth = spec, _host_port(legacy_url), _host_port(auth_url)
        self.faults, self.rate_limit = faults, rate_limit
        self.prefix = Path(tempfile.mkdtemp(prefix="lockstep-nginx-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def died(self) -> bool:
        """Started, then exited (a crash, or a signal nobody sent through stop())."""
        return self.proc is not None and self.proc.poll() is not None

    def files(self, port: int) -> dict[str, str]:
        from lockstep.demo.nginx.config import Site, render  # imports the Python gateway's policy classes

        site = Site(self.prefix, self.module, port, self.legacy, self.auth)
        return apply_faults(render(self.spec, site, self.rate_limit), self.faults)

    def start(self, timeout: float = 10.0) -> NginxGateway:
        for attempt in range(PORT_TRIES):
            port = _free_port()
            self._write(self.files(port))
            failure = self._launch(port, timeout)
            if failure is None:
                self.url = f"http://127.0.0.1:{port}"
                return self
            if "Address already in use" not in failure or attempt == PORT_TRIES - 1:
                self.stop()
                raise RuntimeError(f"nginx did not start: {failure}")
        raise AssertionError("unreachable")

    def _write(self, files: dict[str, str]) -> None:
        (self.prefix / "tmp").mkdir(exist_ok=True)
        for name, text in files.items():
            (self.prefix / name).write_text(text, encoding="utf-8")

    def _launch(self, port: int, timeout: float) -> str | None:
        """None once nginx accepts connections, else why it did not."""
        conf, log = self.prefix / "nginx.conf", self.prefix / "error.log"
        with open(self.prefix / "stderr.log", "wb") as stderr:  # a file: a pipe nobody reads could fill up
            self.proc = subprocess.Popen([self.binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(log)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return self._why()
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return None
            time.sleep(0.02)
        self._kill()
        return f"not listening after {timeout:.0f} s; {self._why()}"

    def _why(self) -> str:
        self._kill()
        text = "".join(path.read_text("utf-8", "replace") for path in (self.prefix / "error.log",
                                                                        self.prefix / "stderr.log") if path.exists())
        lines = [line for line in text.splitlines() if "[emerg]" in line or "[alert]" in line or "[crit]" in line]
        return (lines or text.splitlines() or ["no output"])[-1].strip()

    def _kill(self) -> None:
        if self.proc is not None:
            end(self.proc)

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.prefix, ignore_errors=True)
