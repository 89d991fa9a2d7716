"""The demo gateway as a real nginx: its nginx.conf generated from the OpenAPI document, JWTs checked in njs.

    config.py    the document -> nginx.conf, legacy-proxy.conf (+ lockstep.js, the njs)
    faults.py    the zoo's faults as edits of those files (NGINX_FAULTS)
    process.py   find nginx, run it in its own prefix directory, stop it
"""

from __future__ import annotations

from collections.abc import Iterable

from lockstep.demo.nginx.faults import NGINX_FAULTS, UnsupportedFaultError, check_faults
from lockstep.demo.nginx.process import NginxUnavailableError, find_nginx

__all__ = ["NGINX_FAULTS", "NginxUnavailableError", "UnsupportedFaultError", "check_nginx", "find_nginx"]


def check_nginx(faults: Iterable[str] = ()) -> None:
    """Raise (one line) if nginx or its njs module is missing, or a fault has no nginx form."""
    check_faults(tuple(faults))
    find_nginx()
