"""The demo stack's process: legacy, auth and gateway servers in one event loop.

Started by DemoStack as `python -m lockstep.demo.serve ...`. When the three servers listen, it prints
ONE JSON line on stdout (URLs, the signing key PEM and kid: only the parent reads it) and nothing
else. It stops on SIGTERM/SIGINT, and by itself when its parent process goes away. With `--gateway
nginx` the gateway is a real nginx (lockstep/demo/nginx), started as this process's child once the
legacy and the auth service listen, and stopped with it; the stack also stops if nginx dies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from lockstep.demo.auth_service import AUDIENCE, ISSUER, SigningKey, create_auth_app
from lockstep.demo.faults import UnknownFaultError, parse_fault_list
from lockstep.demo.gateway import PREFIX, GatewayConfig, create_gateway_app
from lockstep.rates import parse_rate
from lockstep.demo.legacy import create_legacy_app
from lockstep.demo.nginx.process import NginxGateway
from lockstep.demo.routes import load_spec

PARENT_POLL = 0.5
START_TIMEOUT = 15.0


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to this module (three servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lockstep.demo.serve")
    parser.add_argument("--faults", default="")
    parser.add_argument("--upstream-delay-ms", type=int, default=0)
    parser.add_argument("--rate-limit", default=None)
    parser.add_argument("--spec", type=Path, default=None)
    parser.add_argument("--gateway", choices=("python", "nginx"), default="python")
    return parser.parse_args(argv)


def bind_loopback() -> socket.socket:
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (proto 0 costs ~40 ms a
    # keep-alive request: Nagle against delayed ACKs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


def make_server(app: Starlette) -> _Server:
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, server_header=False,
                            proxy_headers=False, timeout_graceful_shutdown=2, ws="none")
    return _Server(config)


async def wait_started(servers: list[_Server], tasks: list[asyncio.Task[None]]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while not all(s.started for s in servers):
        failed = [t for t in tasks if t.done()]
        if failed or loop.time() > deadline:
            raise RuntimeError("a demo server did not start")
        await asyncio.sleep(0.01)


async def watch(servers: list[_Server], stop: asyncio.Event, nginx: NginxGateway | None = None) -> None:
    """Ask every server to exit on a signal, when the parent process is gone, or when nginx died."""
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent and not (nginx and nginx.died()):
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), PARENT_POLL)
    for server in servers:
        server.should_exit = True


async def run(args: argparse.Namespace) -> None:
    faults = parse_fault_list(args.faults)
    if args.rate_limit:
        parse_rate(args.rate_limit)
    python_gateway = args.gateway == "python"
    socks = [bind_loopback() for _ in range(3 if python_gateway else 2)]
    legacy_url, auth_url, *own_gateway = (url_of(s) for s in socks)
    key, spec = SigningKey.generate(), load_spec(args.spec)
    nginx = None if python_gateway else NginxGateway(spec, legacy_url, auth_url, faults=faults,
                                                       rate_limit=args.rate_limit)
    apps = [create_legacy_app(spec, upstream_delay_ms=args.upstream_delay_ms), create_auth_app(key, faults)]
    if python_gateway:
        apps.append(create_gateway_app(GatewayConfig(upstream_url=legacy_url, faults=faults, spec=spec,
                                                     jwks_url=f"{auth_url}/.well-known/jwks.json",
                                                     rate_limit=args.rate_limit)))
    servers = [make_server(app) for app in apps]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in zip(servers, socks)]
    watcher = asyncio.create_task(watch(servers, stop, nginx))
    try:
        await wait_started(servers, tasks)
        gateway_url = own_gateway[0] if nginx is None else nginx.start().url  # main thread: see NginxGateway
        ready = {"legacy_url": legacy_url, "auth_url": auth_url, "gateway_url": gateway_url + PREFIX,
                 "issuer": ISSUER, "audience": AUDIENCE, "kid": key.kid, "signing_key_pem": key.private_pem,
                 "faults": list(faults), "pid": os.getpid(), "gateway": args.gateway,
                 "gateway_pid": os.getpid() if nginx is None else nginx.pid,
                 "gateway_dir": None if nginx is None else str(nginx.prefix)}
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        await asyncio.gather(*tasks, watcher)
    finally:
        stop.set()
        if nginx is not None:
            nginx.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(run(args))
    except (UnknownFaultError, ValueError) as err:
        print(f"lockstep.demo.serve: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"lockstep.demo.serve: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
