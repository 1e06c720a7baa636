import pytest

from marketplace.core.security import is_safe_redirect, safe_next


@pytest.mark.parametrize("path", ["/", "/healthz", "/account/login", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)

    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "form-action 'self' https://checkout.stripe.com" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script(client):
    for path in ["/", "/account/login", "/account/register", "/account/forgot"]:
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html
        assert " on" + "click=" not in html


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/account",
        "/account/password?tab=1",
        "/search?q=kh%C3%B4%20c%C3%A1",
    ],
)
def test_local_paths_are_safe_redirects(target):
    assert is_safe_redirect(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "\\\\evil.example",
        "https:\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/%5Cevil.example",
        "/%5cevil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "evil.example",
        "/%09/evil.example",
    ],
)
def test_other_hosts_and_tricky_forms_are_refused(target):
    assert not is_safe_redirect(target)
    assert safe_next(target, "/home") == "/home"


def test_request_bodies_are_capped(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]

    response = client.post(
        "/account/login",
        data=b"x" * (limit + 1),
        content_type="application/octet-stream",
    )

    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)
