"""The token variants decode (or fail to) exactly as their names say, checked with pyjwt itself."""

import json
import os
import subprocess
import sys
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lockstep import tokens
from lockstep.report.redact import redact
from lockstep.tokens.__main__ import main as tokens_main
from lockstep.tokens.keys import RawHMAC
from lockstep.tokens import (ACCEPTED, CHALLENGE, INSUFFICIENT_SCOPE, INVALID_TOKEN, KEY_VARIANTS, LENIENT, OVERSIZE,
                             REFUSED, Signer, build_variants, public_key_from_jwks, scope_lacking, unverified)

ISSUER, AUDIENCE, KID = "https://issuer.test", "lockstep-test-api", "test-kid-1"
SCOPES = "things:read things:write profile"


@pytest.fixture(scope="module")
def key():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, public


@pytest.fixture(scope="module")
def token(key):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "scope": SCOPES, "iat": now, "nbf": now,
              "exp": now + 900}
    return jwt.encode(claims, key[0], algorithm="RS256", headers={"kid": KID})


@pytest.fixture(scope="module")
def full(key, token):
    return build_variants(token, public_key=key[1], signer=Signer(key[0], KID, ISSUER, AUDIENCE))


def credential(variant):
    value = next(v for k, v in variant.headers if k.lower() == "authorization")
    return value.split(" ", 1)[-1]


def verify(token, public, **kwargs):
    return jwt.decode(token, public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
                      options={"require": ["exp", "iss", "aud", "sub"]}, **kwargs)


def segments(token):
    return token.split(".")


def test_names_are_unique_and_every_expectation_is_known(full):
    names = [v.name for v in full.variants]
    assert len(names) == len(set(names))
    assert {v.expect for v in full.variants} <= {ACCEPTED, CHALLENGE, INVALID_TOKEN, REFUSED, OVERSIZE, LENIENT}
    assert not full.not_run
    assert set(KEY_VARIANTS) <= set(names)
    assert all(v.needs_key == (v.name in KEY_VARIANTS) for v in full.variants)


def test_without_the_key_those_variants_are_not_built_and_say_why(token, key):
    found = build_variants(token, public_key=key[1])
    assert not any(v.needs_key for v in found.variants)
    assert set(found.not_run) == set(KEY_VARIANTS)
    assert all("signing key" in why for why in found.not_run.values())


def test_without_a_public_key_the_confusion_variants_say_why(token):
    found = build_variants(token)
    assert "hs256-confusion" in found.not_run and "jwks_url" in found.not_run["hs256-confusion"]
    assert not [v for v in found.variants if v.family == "hs256-confusion"]


def test_without_a_token_nothing_is_expected_to_be_accepted():
    found = build_variants(None)
    assert "scheme-case" in found.not_run
    assert not found.select(ACCEPTED)
    header, claims = unverified(credential(found.by_name("sig-flipped")))
    assert claims["sub"] == "lockstep-probe" and header["alg"] == "RS256"


def test_presentation_variants(full, token):
    assert full.by_name("missing").headers == [] and not full.by_name("missing").presents_token
    assert full.by_name("empty").headers == [("Authorization", "")]
    assert full.by_name("bare-scheme").headers == [("Authorization", "Bearer")]
    assert full.by_name("raw-token").headers == [("Authorization", token)]
    assert full.by_name("scheme-basic").headers == [("Authorization", f"Basic {token}")]
    for name, scheme in (("scheme-lower", "bearer"), ("scheme-upper", "BEARER"), ("scheme-mixed", "bEaReR")):
        assert full.by_name(name).headers == [("Authorization", f"{scheme} {token}")]
        assert full.by_name(name).expect == ACCEPTED
    assert full.by_name("header-name-upper").headers == [("AUTHORIZATION", f"Bearer {token}")]
    dup = full.by_name("dup-garbage-valid").headers
    assert [k for k, _ in dup] == ["Authorization", "Authorization"] and dup[1][1] == f"Bearer {token}"
    both = full.by_name("header-plus-query")
    assert both.query == {"access_token": token} and both.headers == [("Authorization", f"Bearer {token}")]
    only = full.by_name("query-only")
    assert only.headers == [] and only.presents_token and only.expect == CHALLENGE
    assert full.by_name("ws-tab").headers == [("Authorization", f"Bearer\t{token}")]


def test_malformed_shapes_do_not_decode(full):
    assert len(segments(credential(full.by_name("jws-two-segments")))) == 2
    assert len(segments(credential(full.by_name("jws-four-segments")))) == 4
    for name in ("jws-one-segment", "jws-two-segments", "jws-four-segments", "jws-bad-base64url",
                 "jws-non-json-header"):
        with pytest.raises(jwt.DecodeError):
            jwt.get_unverified_header(credential(full.by_name(name)))
    assert "alg" not in jwt.get_unverified_header(credential(full.by_name("jws-no-alg")))


def test_oversize_is_bounded_and_odd_bytes_travel_as_latin1(full):
    sizes = {kb: len(credential(full.by_name(f"oversize-{kb}k"))) for kb in (8, 16)}
    assert 8 * 1024 < sizes[8] < 10 * 1024 and 16 * 1024 < sizes[16] < 18 * 1024
    for name in ("odd-bytes-utf8", "odd-bytes-del", "odd-bytes-high"):
        value = full.by_name(name).headers[0][1]
        value.encode("latin-1")  # sendable as raw bytes
        assert not value.isascii() or "\x7f" in value
        assert "\r" not in value and "\n" not in value and "\x00" not in value


def test_signature_variants_fail_verification_only_because_of_the_signature(full, key, token):
    public = key[1]
    verify(token, public)  # the original is valid
    flipped = credential(full.by_name("sig-flipped"))
    assert tokens.decode_segment(segments(flipped)[2]) != tokens.decode_segment(segments(token)[2])
    for name in ("sig-flipped", "sig-stripped", "sig-truncated", "tampered-sub", "tampered-scope", "tampered-exp"):
        with pytest.raises(jwt.InvalidSignatureError):
            verify(credential(full.by_name(name)), public)
    tampered = credential(full.by_name("tampered-sub"))
    assert unverified(tampered)[1]["sub"] == "other-user" and segments(tampered)[2] == segments(token)[2]
    assert credential(full.by_name("sig-stripped")).endswith(".")


@pytest.mark.parametrize("name, alg", sorted(tokens.NONE_CASINGS.items()))
def test_alg_none_in_every_casing_is_unsigned_and_otherwise_valid(full, name, alg):
    unsigned = credential(full.by_name(name))
    header, claims = unverified(unsigned)
    assert header["alg"] == alg and unsigned.endswith(".")
    assert claims["exp"] > time.time() + 600 and claims["sub"] == "alice"  # refused only for `alg`
    assert full.by_name(name).core


def test_hs256_confusion_is_an_hmac_keyed_with_the_public_key(full, key):
    confused = credential(full.by_name("hs256-pubkey-pem"))
    assert jwt.get_unverified_header(confused)["alg"] == "HS256"
    checker = jwt.api_jws.PyJWS(algorithms=[])
    checker.register_algorithm("HS256", RawHMAC(RawHMAC.SHA256))
    assert checker.decode_complete(confused, key[1].encode(), algorithms=["HS256"])["signature"]
    with pytest.raises(jwt.PyJWTError):
        verify(confused, key[1])
    names = {v.name for v in full.variants if v.family == "hs256-confusion"}
    assert {"hs256-pubkey-pem", "hs256-pubkey-pkcs1", "hs256-pubkey-der"} <= names


def test_embedded_and_foreign_keys_verify_only_with_the_foreign_key(full, key):
    embedded = credential(full.by_name("jwk-embedded"))
    header = jwt.get_unverified_header(embedded)
    foreign_public = RSAAlgorithm.from_jwk(header["jwk"])
    jwt.decode(embedded, foreign_public, algorithms=["RS256"], audience=AUDIENCE)  # a naive verifier is fooled
    with pytest.raises(jwt.InvalidSignatureError):
        verify(embedded, key[1])
    assert jwt.get_unverified_header(credential(full.by_name("jku-foreign")))["jku"].startswith("https://")
    assert ".invalid/" in jwt.get_unverified_header(credential(full.by_name("jku-foreign")))["jku"]
    real_kid = credential(full.by_name("foreign-key-real-kid"))
    assert jwt.get_unverified_header(real_kid)["kid"] == KID
    with pytest.raises(jwt.InvalidSignatureError):
        verify(real_kid, key[1])
    assert jwt.get_unverified_header(credential(full.by_name("kid-path-traversal")))["kid"].startswith("../")


@pytest.mark.parametrize("name, error", [
    ("expired", jwt.ExpiredSignatureError), ("expired-exp-string", jwt.PyJWTError),
    ("exp-negative", jwt.ExpiredSignatureError), ("not-yet-valid", jwt.ImmatureSignatureError),
    ("wrong-aud", jwt.InvalidAudienceError), ("aud-array-without-ours", jwt.InvalidAudienceError),
    ("missing-aud", jwt.MissingRequiredClaimError), ("wrong-iss", jwt.InvalidIssuerError),
    ("iss-case", jwt.InvalidIssuerError), ("iss-trailing-slash", jwt.InvalidIssuerError),
    ("missing-exp", jwt.MissingRequiredClaimError), ("missing-sub", jwt.MissingRequiredClaimError),
    ("crit-unknown", jwt.InvalidTokenError), ("alg-rs512-same-key", jwt.InvalidAlgorithmError),
])
def test_key_variants_are_genuinely_signed_and_refused_for_their_reason(full, key, name, error):
    variant = full.by_name(name)
    assert variant.needs_key and variant.expect == INVALID_TOKEN
    signed = credential(variant)
    if name == "alg-rs512-same-key":
        jwt.decode(signed, key[1], algorithms=["RS512"], audience=AUDIENCE)  # signed by the real key
    with pytest.raises(error):
        verify(signed, key[1], leeway=30)


def test_the_control_and_the_lenient_claim_types_are_valid_tokens(full, key):
    claims = verify(credential(full.by_name("minted-valid")), key[1])
    assert claims["sub"] == "alice" and claims["scope"] == SCOPES
    assert jwt.get_unverified_header(credential(full.by_name("minted-valid")))["kid"] == KID
    assert unverified(credential(full.by_name("exp-string-future")))[1]["exp"].isdigit()
    assert full.by_name("exp-huge").expect == LENIENT


def test_scope_lacking_removes_exactly_the_operations_scopes(key, token):
    signer = Signer(key[0], KID, ISSUER, AUDIENCE)
    variant = scope_lacking(signer, token, {"things:read"})
    claims = verify(credential(variant), key[1])
    assert claims["scope"] == "things:write profile" and variant.expect == INSUFFICIENT_SCOPE
    listed = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "bob", "scp": ["a", "b"], "exp": time.time() + 60},
                        key[0], algorithm="RS256")
    claims = verify(credential(scope_lacking(signer, listed, {"a"}, scope_claim="scp")), key[1])
    assert claims["scp"] == ["b"] and claims["sub"] == "bob"


def test_public_key_from_jwks_picks_the_kid(key):
    public = serialization.load_pem_public_key(key[1].encode())
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    other = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048)
                                           .public_key()))
    jwks = {"keys": [{**other, "kid": "other"}, {**jwk, "kid": KID}, {"kty": "EC", "kid": "ec"}]}
    assert public_key_from_jwks(jwks, KID) == key[1]
    assert public_key_from_jwks(jwks, "unknown") != key[1]  # the first RSA key
    assert public_key_from_jwks({"keys": []}) is None


def test_every_token_built_is_redacted(full, token):
    for variant in full.variants:
        for _, value in variant.headers:
            secret = value.split(" ", 1)[-1]
            if len(secret) >= 16:
                assert secret not in redact(f"header: {value}"), variant.name
        for value in variant.query.values():
            assert value not in redact(f"https://x/y?access_token={value}")
    assert token not in redact(token)


def test_the_command_line_prints_one_variants_credential(monkeypatch, capsys, token, key):
    monkeypatch.setenv("GATEWAY_TOKEN", token)
    monkeypatch.setenv("AUTH_SIGNING_KEY", key[0])
    monkeypatch.setenv("AUTH_KID", KID)
    assert tokens_main(["alg-none-upper"]) == 0
    printed = capsys.readouterr().out.strip()
    assert jwt.get_unverified_header(printed)["alg"] == "NONE"
    assert tokens_main(["expired"]) == 0
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(capsys.readouterr().out.strip(), key[1], algorithms=["RS256"], audience=AUDIENCE)


def test_what_the_rfcs_let_a_gateway_accept_is_not_expected_to_be_refused(full):
    """RFC 9110 2.2 lets a recipient recover a token from a tab or trailing junk; a payload outside b64token
    is a malformed request (400) as much as a bad token; RFC 7519 makes `exp` and `sub` optional."""
    assert full.by_name("ws-tab").expect == LENIENT and full.by_name("ws-trailing-junk").expect == LENIENT
    assert full.by_name("jws-bad-base64url").expect == REFUSED
    for name, claim in (("missing-exp", "4.1.4"), ("missing-sub", "4.1.2")):
        assert full.by_name(name).expect == INVALID_TOKEN and f"RFC 7519 {claim}" in full.by_name(name).tolerated
    assert not [v.name for v in full.variants if v.tolerated and v.name not in ("missing-exp", "missing-sub")]


def test_the_package_keeps_its_public_names_and_its_command():
    for name in tokens.__all__:
        assert getattr(tokens, name) is not None
    out = subprocess.run([sys.executable, "-m", "lockstep.tokens"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "GATEWAY_TOKEN": "", "AUTH_SIGNING_KEY": ""}, check=True).stdout
    assert out.splitlines()[0].split()[:2] == ["missing", CHALLENGE]
