"""Token variants for the auth flow: every way a client can present a credential badly, built with pyjwt.

A `Variant` is what one request carries (its Authorization headers and query) and what a correct gateway
answers to it (`expect`). `build_variants` derives them from the gateway's valid token, and optionally
from the issuer's public key (JWKS) and a `Signer` (the staging signing key: expired, wrong audience ...).
Tokens are encoded by pyjwt (a private PyJWS instance registers the algorithms an attacker uses: `none`
in every casing, HMAC keyed with the public key); only deliberately malformed shapes (a non-JSON header,
bad base64url, a wrong number of segments) are put together segment by segment. Every token built is
registered with the redactor, so none reaches a report.

    model.py     Variant, VariantSet, Signer, the expectations
    keys.py      the attacker's algorithms, a foreign key, JWKS and PEM helpers
    variants.py  build_variants: the variants the valid token (and the public key) allow
    claims.py    what only the signing key can build; scope_lacking
    __main__.py  `python -m lockstep.tokens NAME` prints one variant's credential (a reproducer)
"""

from .claims import KEY_VARIANTS, scope_lacking
from .keys import NONE_CASINGS, decode_segment, foreign_key, public_key_from_jwks, public_key_pem, unverified
from .model import (ACCEPTED, CHALLENGE, INSUFFICIENT_SCOPE, INVALID_TOKEN, LENIENT, OVERSIZE, REFUSED, Expect,
                    Signer, Variant, VariantSet)
from .variants import build_variants

__all__ = [
    "Variant", "VariantSet", "Signer", "Expect", "ACCEPTED", "CHALLENGE", "INVALID_TOKEN", "REFUSED", "OVERSIZE",
    "LENIENT", "INSUFFICIENT_SCOPE", "build_variants", "scope_lacking", "unverified", "public_key_from_jwks",
    "public_key_pem", "foreign_key", "KEY_VARIANTS", "NONE_CASINGS", "decode_segment",
]
