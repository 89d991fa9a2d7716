"""`python -m lockstep.demo [--faults a,b] [--upstream-delay-ms N] [--rate-limit N/s]`: run the stack."""

from __future__ import annotations

import argparse
import sys

from lockstep.demo.faults import UnknownFaultError, parse_fault_list
from lockstep.demo.stack import DemoStack


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lockstep.demo",
                                     description="Run the demo legacy API, auth service and gateway.")
    parser.add_argument("--faults", default="", help="comma-separated fault names (see lockstep.demo.faults)")
    parser.add_argument("--upstream-delay-ms", type=int, default=0, help="legacy delay per request")
    parser.add_argument("--rate-limit", default=None, help="gateway limit per route and client, e.g. 5/s")
    return parser.parse_args(argv)


def banner(stack: DemoStack, token: str) -> str:
    return "\n".join([
        f"legacy:  {stack.legacy_url}",
        f"gateway: {stack.gateway_url}",
        f"auth:    {stack.auth_url}   (token: {stack.token_url}, JWKS: {stack.jwks_url})",
        f"faults:  {', '.join(stack.faults) or 'none (faithful gateway)'}",
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
                          rate_limit=args.rate_limit)
    except (UnknownFaultError, ValueError) as err:
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
