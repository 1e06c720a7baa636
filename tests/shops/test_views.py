import io
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.shops import places
from marketplace.shops.models import Shop, ShopStatus
from tests.conftest import csrf_token_from, submit_form
from tests.factories import CA_MAU, log_in, make_shop, make_user


def shop_form(**fields):
    data = {
        "name": "Khô Cá Lóc Út Hiền",
        "slug": "",
        "description": "Khô cá lóc đồng U Minh.",
        "phone": "0912 345 678",
        "street": "Ấp 3",
        "province_code": str(CA_MAU),
        "commune_code": str(places.communes(CA_MAU)[0].code),
        "business_type": "household",
        "tax_code": "2000123453",
        "id_number": "",
        "accept_rules": "y",
    }
    data.update(fields)
    return data


def picture(size=(400, 400)):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (20, 120, 80)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def count_shops():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Shop))


def test_a_member_opens_a_shop_with_files_and_sees_the_dashboard(client):
    member = make_user()
    log_in(client, member)

    response = submit_form(
        client,
        "/seller/shop/new",
        {
            **shop_form(),
            "registration_document": (
                io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"),
                "giay-phep.pdf",
            ),
            "logo": (picture(), "logo.png"),
            "banner": (picture((1200, 400)), "bia.png"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    shop = db.session.scalar(select(Shop))
    assert shop.status == ShopStatus.PENDING
    assert shop.slug == "kho-ca-loc-ut-hien"
    assert shop.logo is not None and shop.banner is not None
    assert shop.registration_document.filename == "giay-phep.pdf"
    db.session.refresh(member)
    assert member.role == Role.SELLER
    dashboard = client.get("/seller").get_data(as_text=True)
    assert "Gian hàng đang chờ duyệt" in dashboard
    assert client.get(f"/gian-hang/{shop.slug}").status_code == 404  # not public yet


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"accept_rules": ""}, "đồng ý với quy định"),
        ({"tax_code": "123"}, "Mã số thuế không hợp lệ"),
        ({"business_type": "individual", "tax_code": ""}, "căn cước"),
        ({"commune_code": "0"}, "xã/phường"),
        ({"phone": "12345"}, "số điện thoại Việt Nam"),
        ({"slug": "admin"}, "giữ lại"),
        ({"slug": "Có Dấu"}, "chữ thường"),
        ({"name": ""}, "bắt buộc"),
        ({"province_code": "99999"}, "Lựa chọn không hợp lệ"),
    ],
)
def test_bad_shop_input_explains_and_writes_nothing(client, fields, message):
    log_in(client, make_user())

    response = submit_form(client, "/seller/shop/new", shop_form(**fields))

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_shops() == 0


def test_a_bad_logo_saves_nothing(client):
    log_in(client, make_user())

    response = submit_form(
        client,
        "/seller/shop/new",
        {**shop_form(), "logo": (io.BytesIO(b"GIF89a...."), "logo.gif")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "logo.gif" in response.get_data(as_text=True)
    assert count_shops() == 0


def test_changing_province_without_javascript_shows_its_communes(client):
    log_in(client, make_user())
    hanoi = next(p for p in places.provinces() if "Hà Nội" in p.name)

    response = submit_form(
        client,
        "/seller/shop/new",
        {**shop_form(province_code=str(hanoi.code)), "refresh_places": "1"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert places.communes(hanoi.code)[0].name in html
    assert count_shops() == 0


def test_communes_json_for_the_form_script(client):
    response = client.get(f"/places/communes?province={CA_MAU}")

    assert response.status_code == 200
    assert len(response.json) == 64
    assert client.get("/places/communes?province=abc").status_code == 400


def test_the_registration_document_is_for_the_owner_and_admins_only(app, client):
    member = make_user()
    log_in(client, member)
    submit_form(
        client,
        "/seller/shop/new",
        {**shop_form(), "registration_document": (io.BytesIO(b"%PDF-1.4\nx"), "gp.pdf")},
        content_type="multipart/form-data",
    )
    shop = db.session.scalar(select(Shop))
    url = f"/shops/{shop.id}/registration-document"

    owner_response = client.get(url)
    stranger = log_in(app.test_client(), make_user())
    admin = log_in(app.test_client(), make_user(role=Role.ADMIN))

    assert owner_response.status_code == 200
    assert owner_response.data.startswith(b"%PDF")
    assert "private" in owner_response.headers["Cache-Control"]
    assert stranger.get(url).status_code == 404
    assert admin.get(url).status_code == 200
    assert app.test_client().get(url).status_code == 302  # visitors log in first


def test_a_rejected_shop_is_fixed_and_resubmitted(client):
    shop = make_shop(status=ShopStatus.REJECTED)
    log_in(client, shop.owner)
    assert "Thiếu giấy phép" in client.get("/seller").get_data(as_text=True)

    submit_form(client, "/seller/shop/edit", shop_form(name="Khô Cá Lóc Út Hiền U Minh"))
    token = csrf_token_from(client.get("/seller").get_data(as_text=True))
    client.post("/seller/shop/resubmit", data={"csrf_token": token})

    db.session.refresh(shop)
    assert shop.name == "Khô Cá Lóc Út Hiền U Minh"
    assert shop.status == ShopStatus.PENDING


def test_a_member_without_a_shop_is_invited_to_open_one(client):
    log_in(client, make_user())

    html = client.get("/seller").get_data(as_text=True)

    assert "Mở gian hàng" in html
    assert client.get("/seller/shop/edit").status_code == 302
    assert client.get("/seller/products/new").status_code == 302


def test_a_second_shop_cannot_be_opened(client):
    shop = make_shop()
    log_in(client, shop.owner)

    response = client.get("/seller/shop/new")

    assert response.status_code == 302
    assert count_shops() == 1


def test_rules_page_shows_the_version(client):
    html = client.get("/quy-dinh").get_data(as_text=True)

    assert "Quy định dành cho người bán" in html
    assert "2026-01" in html


def test_cli_approves_and_trusts_a_shop(app):
    shop = make_shop(status=ShopStatus.PENDING)

    result = app.test_cli_runner().invoke(args=["shops", "approve", shop.slug, "--trusted"])

    assert result.exit_code == 0, result.output
    db.session.refresh(shop)
    assert shop.status == ShopStatus.APPROVED and shop.trusted
    again = app.test_cli_runner().invoke(args=["shops", "approve", shop.slug])
    assert again.exit_code != 0
    missing = app.test_cli_runner().invoke(args=["shops", "approve", "khong-co"])
    assert "khong-co" in missing.output


def test_an_old_address_is_converted_to_the_new_province_and_commune(client):
    log_in(client, make_user())

    response = submit_form(
        client,
        "/seller/shop/new",
        {
            **shop_form(province_code="1", commune_code="0"),
            "legacy_address": "Thị trấn Gành Hào, Huyện Đông Hải, Tỉnh Bạc Liêu",
            "convert_legacy": "1",
        },
    )

    html = response.get_data(as_text=True)
    gành_hào = next(c for c in places.communes(CA_MAU) if c.name == "Xã Gành Hào")
    assert response.status_code == 200
    assert f'<option selected value="{CA_MAU}">' in html
    assert f'<option selected value="{gành_hào.code}">' in html
    assert count_shops() == 0


def test_an_unknown_old_address_says_so(client):
    log_in(client, make_user())

    response = submit_form(
        client,
        "/seller/shop/new",
        {**shop_form(), "legacy_address": "Xứ Sở Thần Tiên", "convert_legacy": "1"},
    )

    assert "Không nhận ra địa chỉ cũ này." in response.get_data(as_text=True)


def test_a_refused_shop_form_keeps_no_uploaded_document(client, app):
    log_in(client, make_user())

    response = submit_form(
        client,
        "/seller/shop/new",
        {
            **shop_form(accept_rules=""),
            "registration_document": (io.BytesIO(b"%PDF-1.4\nCCCD"), "cccd.pdf"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    media_dir = Path(app.config["MEDIA_DIR"])
    assert not any(path.is_file() for path in media_dir.rglob("*"))


def test_the_dashboard_shows_a_large_shop_a_page_at_a_time(client):
    from marketplace.catalog import services as catalog
    from tests.factories import product_input

    shop = make_shop()
    for number in range(35):
        catalog.create_product(shop, product_input(name=f"Khô cá số {number:02d}"), [])
    db.session.commit()
    log_in(client, shop.owner)

    first = client.get("/seller").get_data(as_text=True)
    second = client.get("/seller?page=2").get_data(as_text=True)

    assert first.count('class="seller-product"') == 30
    assert second.count('class="seller-product"') == 5
    assert "(35)" in first and "Trang 1 / 2" in first
    shown = {n for n in range(35) if f"Khô cá số {n:02d}" in first + second}
    assert shown == set(range(35))
