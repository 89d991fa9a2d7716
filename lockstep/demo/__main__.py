"""`python -m lockstep.demo [--faults a,b] [--gateway nginx] [--upstream-delay-ms N] [--rate-limit N/s]`."""

from __future__ import annotations

import argparse
import sys

from lockstep.demo.faults import KNOWN_FAULTS, UnknownFaultError, parse_fault_list
from lockstep.demo.nginx import NGINX_FAULTS, NginxUnavailableError
from lockstep.demo.stack import GATEWAYS, DemoStack


def fault_list() -> str:
    """Every fault, one line each (the help's epilog)."""
    width = max(map(len, KNOWN_FAULTS))
    lines = [f"  {name:{width}}  {text}{'' if name in NGINX_FAULTS else ' (python gateway only)'}"
             for name, text in KNOWN_FAULTS.items()]
    return "faults (--faults a,b):\n" + "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lockstep.demo", epilog=fault_list(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Run the demo legacy API, auth service and gateway.")
    parser.add_argument("--faults", default="", help="comma-separated fault names (listed below)")
    parser.add_argument("--gateway", choices=GATEWAYS, default="python",
                        help="the gateway: ours in Python, or a real nginx whose config is generated (default python)")
    parser.add_argument("--upstream-delay-ms", type=int, default=0, help="legacy delay per request")
    parser.add_argument("--rate-limit", default=None, help="gateway limit per route and client, e.g. 5/s")
    return parser.parse_args(argv)


def banner(stack: DemoStack, token: str) -> str:
    return "\n".join([
        f"legacy:  {stack.legacy_url}",
        f"gateway: {stack.gateway_url}",
        f"auth:    {stack.auth_url}   (token: {stack.token_url}, JWKS: {stack.jwks_url})",
        f"faults:  {', '.join(stack.faults) or 'none (faithful gateway)'}   ({stack.gateway_kind} gateway)",
        "",
        f"export TOKEN={token}",
        f'curl -H "Authorization: Bearer $TOKEN" {stack.gateway_url}/users/me',
        "",
        "Ctrl-C stops the stack.",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        stack = DemoStack(parse_fault_list(args.faults), upstream_delay_ms=args.upstream_delay_ms,
                          rate_limit=args.rate_limit, gateway=args.gateway)
    except (UnknownFaultError, ValueError, NginxUnavailableError) as err:
        print(f"lockstep.demo: {err}", file=sys.stderr)
        return 2
    try:
        stack.start()
        print(banner(stack, stack.token()), flush=True)
        code = stack.wait()
        print(f"lockstep.demo: the stack exited with code {code}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as err:
        print(f"lockstep.demo: {err}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
