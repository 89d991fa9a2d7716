from lockstep.report.curl import curl_command
from lockstep.report.redact import redact, redact_headers, register_secret

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vLXVzZXIifQ.c2lnbmF0dXJlLWJ5dGVz"


def test_registered_secret_and_jwt_shapes_are_replaced():
    register_secret("client-secret-value")
    text = redact(f"secret=client-secret-value token={JWT} Authorization: Bearer abc4defgh5ijkl")
    assert "client-secret-value" not in text and JWT not in text and "abc4defgh5ijkl" not in text


def test_secret_headers_are_replaced_whatever_their_value():
    out = redact_headers({"Authorization": "whatever", "Cookie": "sid=1", "X-Other": "fine"})
    assert out == {"Authorization": "[REDACTED]", "Cookie": "[REDACTED]", "X-Other": "fine"}


def test_access_token_parameter_and_pem_block():
    assert "abc" not in redact("http://h/x?access_token=abc&y=1")
    pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"
    assert "MIIB" not in redact(f"key: {pem}")


def test_curl_reproducer_uses_a_variable_for_the_token():
    cmd = curl_command("POST", "http://127.0.0.1:2/api/x?q=a%2Bb", {"Authorization": f"Bearer {JWT}",
                       "Content-Type": "application/json"}, b'{"a": 1}', token_var="GATEWAY_TOKEN")
    assert JWT not in cmd and '"Authorization: Bearer $GATEWAY_TOKEN"' in cmd and "a%2Bb" in cmd


def test_plain_wording_about_bearer_tokens_survives():
    text = 'expected a Bearer challenge with Bearer error="invalid_token"'
    assert redact(text) == text
    assert "s3cr3tTokenValue99" not in redact("Authorization: Bearer s3cr3tTokenValue99")
