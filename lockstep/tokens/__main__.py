"""`python -m lockstep.tokens NAME`: print the credential of one variant (for a finding's reproducer)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from .keys import public_key_pem
from .model import Signer
from .variants import build_variants

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m lockstep.tokens NAME`: print the credential of one variant (for a finding's reproducer).

    Reads GATEWAY_TOKEN, and optionally AUTH_SIGNING_KEY (PEM text or path), AUTH_KID, AUTH_ISSUER and
    AUTH_AUDIENCE, from the environment; prints what follows the scheme in the variant's Authorization
    header (or its ?access_token=), for `VARIANT_TOKEN=$(python -m lockstep.tokens NAME)`.
    """
    parser = argparse.ArgumentParser(prog="python -m lockstep.tokens", description=main.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="the variant's name (omit to list them)")
    args = parser.parse_args(argv)
    key = os.environ.get("AUTH_SIGNING_KEY", "").strip()
    if key and not key.startswith("-----BEGIN") and Path(key).is_file():
        key = Path(key).read_text(encoding="utf-8")
    signer = Signer(key, os.environ.get("AUTH_KID") or None, os.environ.get("AUTH_ISSUER") or None,
                    os.environ.get("AUTH_AUDIENCE") or None) if key.startswith("-----BEGIN") else None
    found = build_variants(os.environ.get("GATEWAY_TOKEN") or None,
                           public_key=public_key_pem(signer.key_pem) if signer else None, signer=signer)
    if not args.name:
        for v in found.variants:
            print(f"{v.name:30} {v.expect:18} {v.description}")
        return 0
    try:
        variant = found.by_name(args.name)
    except StopIteration:
        parser.error(f"unknown variant {args.name!r} (or it needs a key or token not given)")
    values = [v for k, v in variant.headers if k.lower() == "authorization"] or list(variant.query.values())
    print(values[0].split(" ", 1)[-1] if values else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
