import re

import pytest

from marketplace.accounts.models import Role
from marketplace.core.security import is_safe_redirect, safe_next
from tests.conftest import make_test_config
from tests.factories import log_in, make_product, make_shop, make_user


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


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize(
    "path", ["/", "/account/login", "/account/register", "/account/forgot", "/missing"]
)
def test_pages_have_no_inline_script_or_event_handlers(client, path):
    html = client.get(path).get_data(as_text=True)

    assert not INLINE_SCRIPT.search(html)
    assert not EVENT_HANDLER.search(html)
    assert "javascript:" not in html


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


def test_forms_and_json_bodies_are_capped_at_the_form_memory_size(client, app):
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    assert limit < app.config["MAX_CONTENT_LENGTH"]

    response = client.post(
        "/account/login",
        data="email=" + "x" * limit,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1024 * 1024}], indirect=True)
def test_multipart_uploads_are_capped_at_max_content_length(client):
    boundary = "ranh-gioi"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
            f'filename="anh.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + b"\xff" * (1024 * 1024 + 1)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    response = client.post(
        "/account/login", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 413


@pytest.mark.parametrize("app_config", [{"TRUSTED_HOSTS": ["cho.example.vn"]}], indirect=True)
def test_requests_for_untrusted_hosts_are_refused(client):
    assert client.get("/healthz", headers={"Host": "cho.example.vn"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_a_forged_host_is_refused_by_default_so_redirects_cannot_name_it(client):
    # Werkzeug's own redirect (merging slashes) is built from the Host header.
    forged = client.get("/media//public/x.webp", headers={"Host": "evil.example"})
    honest = client.get("/media//public/x.webp", headers={"Host": "127.0.0.1:5000"})

    assert forged.status_code == 400
    assert "evil.example" not in forged.headers.get("Location", "")
    assert honest.status_code in (308, 404)
    assert "evil.example" not in honest.headers.get("Location", "")


def test_a_forged_host_gets_a_plain_400_page_without_an_error_in_the_log(client, caplog):
    response = client.get("/", headers={"Host": "evil.example"})

    assert response.status_code == 400
    assert "<h1>400" in response.get_data(as_text=True)
    assert "ERROR" not in caplog.text


def test_the_default_trusted_hosts_are_the_site_url_host_and_loopback(build_app, tmp_path):
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}")
    app = build_app({**config, "SITE_URL": "https://cho.example.vn", "TRUSTED_HOSTS": None})
    client = app.test_client()

    assert app.config["TRUSTED_HOSTS"][:2] == ["cho.example.vn", "127.0.0.1"]
    assert client.get("/healthz", headers={"Host": "cho.example.vn"}).status_code != 400
    assert client.get("/healthz", headers={"Host": "localhost:5000"}).status_code != 400
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/account", "/seller", "/admin/", "/admin/audit.csv", "/admin/report.csv"],
)
def test_personal_pages_are_never_stored_by_caches(app, client, path):
    admin = make_user(role=Role.ADMIN)
    make_shop(owner=admin)
    log_in(client, admin)

    response = client.get(path)

    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("path", ["/account/login", "/account/register", "/seller/products/new"])
def test_pages_under_account_seller_and_admin_are_private_even_for_visitors(client, path):
    assert client.get(path).headers["Cache-Control"] == "private, no-store"


def test_a_public_page_shown_to_a_member_is_private_but_stays_cacheable_for_visitors(app, client):
    product = make_product(images=None)
    page = f"/san-pham/{product.id}/{product.slug}"
    visitor = client.get(page)
    log_in(client, make_user(full_name="Lê Văn Tám"))
    member = client.get(page)

    assert visitor.status_code == member.status_code == 200
    assert "no-store" not in visitor.headers.get("Cache-Control", "")
    assert "<summary>Tám</summary>" in member.get_data(as_text=True)
    assert member.headers["Cache-Control"] == "private, no-store"
