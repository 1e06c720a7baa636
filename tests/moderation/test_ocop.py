"""The province's OCOP list: importing it marks matching claims verified."""

import io

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.catalog.models import OcopCertificate, Product
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from tests.conftest import csrf_token_from
from tests.factories import log_in, make_product, make_user, product_input

LIST = (
    "Số giấy chứng nhận,Sản phẩm,Chủ thể,Số sao,Năm\n"
    "123/QĐ-UBND,Mật ong rừng U Minh,HTX Ong Mật U Minh Hạ,4,2024\n"
    "45/QĐ-UBND,Khô cá lóc,Cơ sở Út Hiền,3,2023\n"
)


def ocop_claim(number, stars, **fields):
    return make_product(
        ocop_stars=stars, ocop_certificate_no=number, ocop_year=2024, ocop_level="province",
        **fields,
    )  # fmt: skip


def upload(client, content: bytes):
    token = csrf_token_from(client.get("/admin/ocop").get_data(as_text=True))
    return client.post(
        "/admin/ocop",
        data={"csrf_token": token, "file": (io.BytesIO(content), "ocop.csv")},
        content_type="multipart/form-data",
    )


@pytest.fixture
def admin(app):
    return log_in(app.test_client(), make_user(role=Role.ADMIN))


def test_importing_the_list_verifies_matching_claims_only(app, admin):
    honey = ocop_claim("123 / qđ-ubnd", 4, name="Mật ong rừng U Minh")
    wrong_stars = ocop_claim("45/QĐ-UBND", 5, name="Khô cá lóc 5 sao")
    unknown = ocop_claim("999/QĐ-UBND", 3, name="Tôm khô")
    no_claim = make_product(name="Ba khía")

    response = upload(admin, LIST.encode("utf-8-sig"))

    assert response.status_code == 302
    verified = {
        p.id: db.session.get(Product, p.id).ocop_verified
        for p in (honey, wrong_stars, unknown, no_claim)
    }
    assert verified == {
        honey.id: True,
        wrong_stars.id: False,
        unknown.id: False,
        no_claim.id: False,
    }
    card = app.test_client().get("/").get_data(as_text=True)
    page = app.test_client().get(f"/san-pham/{unknown.id}/{unknown.slug}").get_data(as_text=True)
    assert "OCOP 4★ ✓" in card
    assert "chưa xác minh" in page
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert entry.action == "ocop.import" and entry.after["added"] == 2


def test_a_later_edit_is_checked_against_the_list(app, admin):
    upload(admin, LIST.encode())
    product = ocop_claim("000/QĐ-UBND", 4, name="Mật ong")
    assert not product.ocop_verified

    catalog.update_product(
        product,
        product_input(
            name="Mật ong", ocop_stars=4, ocop_certificate_no="123/QĐ-UBND", ocop_year=2024,
            ocop_level="province",
        ),
        [],
        author=product.shop.owner,
    )  # fmt: skip
    revision = catalog.pending_revision(product)
    catalog.approve_revision(revision)
    db.session.commit()

    assert db.session.get(Product, product.id).ocop_verified


def test_importing_again_updates_and_a_changed_star_count_unverifies(app, admin):
    honey = ocop_claim("123/QĐ-UBND", 4)
    upload(admin, LIST.encode())
    assert db.session.get(Product, honey.id).ocop_verified

    upload(admin, b"123/QD-UBND,Mat ong rung U Minh,HTX Ong Mat,5,2025\n")

    assert db.session.scalar(select(func.count(OcopCertificate.id))) == 2
    assert (
        db.session.scalar(
            select(OcopCertificate.stars).where(OcopCertificate.certificate_key == "123/QD-UBND")
        )
        == 5
    )
    assert not db.session.get(Product, honey.id).ocop_verified


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("123/QĐ,Mật ong,HTX,6,2024\n".encode(), "Dòng 1"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (LIST.encode() + "46/QĐ,Tôm khô,Cơ sở,4,1999\n".encode(), "Dòng 4"),
        (LIST.encode() + "123/QĐ-UBND,Mật ong,HTX,4,2024\n".encode(), "Dòng 4"),
        (b"", "không có giấy chứng nhận"),
    ],
)
def test_a_bad_list_imports_nothing_and_names_the_bad_lines(app, admin, content, message):
    response = upload(admin, content)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(OcopCertificate.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_files_saved_by_other_programs_import_or_get_a_message(app, admin):
    mac_line_ends = LIST.replace("\n", "\r").encode()
    huge_field = b"1/QD," + b"x" * 200_000 + b",HTX,4,2024\n"
    long_key = ("ß" * 30 + ",Mật ong,HTX,4,2024\n").encode()

    imported = upload(admin, mac_line_ends)
    too_big = upload(admin, huge_field)
    too_long = upload(admin, long_key)

    assert imported.status_code == 302
    assert db.session.scalar(select(func.count(OcopCertificate.id))) == 2
    assert too_big.status_code == 200 and "không phải tệp CSV" in too_big.get_data(as_text=True)
    assert too_long.status_code == 200 and "Dòng 1" in too_long.get_data(as_text=True)


def test_an_import_keeps_the_review_queue_order_and_refreshes_cached_badges(app, admin):
    from datetime import timedelta

    from marketplace.catalog.models import ProductStatus
    from marketplace.core import pagecache
    from marketplace.core.models import utcnow

    waiting = make_product(status=ProductStatus.PENDING, name="Chờ lâu")
    honey = ocop_claim("123/QĐ-UBND", 4, name="Mật ong rừng U Minh")
    two_days_ago = utcnow() - timedelta(days=2)
    for product in (waiting, honey):
        db.session.get(Product, product.id).updated_at = two_days_ago
    db.session.commit()
    before = pagecache.generation()

    upload(admin, LIST.encode())

    db.session.expire_all()
    assert db.session.get(Product, waiting.id).updated_at == two_days_ago
    assert db.session.get(Product, honey.id).updated_at == two_days_ago
    assert db.session.get(Product, honey.id).ocop_verified
    assert pagecache.generation() > before
    assert "2 ngày" in admin.get("/admin/products").get_data(as_text=True)
