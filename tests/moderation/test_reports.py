"""Reports ("Báo cáo vi phạm"): any visitor files one; admins resolve them by target."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry, Report
from marketplace.shops.models import Shop, ShopStatus
from tests.conftest import csrf_token_from, submit_form
from tests.factories import log_in, make_product, make_user


def report_product(client, product, **data):
    return submit_form(client, f"/bao-cao/san-pham/{product.id}", data)


def open_reports():
    return list(db.session.scalars(select(Report).where(Report.resolved_at.is_(None))))


def test_a_visitor_reports_a_listing_from_its_page(app):
    product = make_product(name="Mật ong rừng U Minh")
    client = app.test_client()

    page = client.get(f"/san-pham/{product.id}/{product.slug}").get_data(as_text=True)
    response = report_product(
        client, product, reason="counterfeit", details="Mật ong pha đường, không phải mật rừng."
    )

    assert f"/bao-cao/san-pham/{product.id}" in page and "Báo cáo vi phạm" in page
    assert response.status_code == 302
    assert response.headers["Location"] == f"/san-pham/{product.id}/{product.slug}"
    [report] = open_reports()
    assert (report.target_type, report.target_id, report.reason) == (
        "product",
        product.id,
        "counterfeit",
    )
    assert report.details == "Mật ong pha đường, không phải mật rừng."
    assert report.reporter_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "details": "x"}, "bắt buộc"),
        ({"reason": "bogus", "details": "x"}, "Lựa chọn không hợp lệ"),
        ({"reason": "other", "details": "  "}, "Hãy cho biết"),
        ({"reason": "offensive", "details": "x" * 1001}, "1000"),
    ],
)
def test_a_bad_report_is_refused_with_a_message_and_nothing_stored(app, data, message):
    product = make_product()

    response = report_product(app.test_client(), product, **data)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert open_reports() == []


def test_only_public_listings_and_shops_can_be_reported(app):
    draft = make_product(status=ProductStatus.DRAFT)
    client = app.test_client()

    assert client.get(f"/bao-cao/san-pham/{draft.id}").status_code == 404
    assert client.get("/bao-cao/gian-hang/999999").status_code == 404
    assert client.get(f"/bao-cao/gian-hang/{draft.shop.id}").status_code == 200


def test_a_member_reports_a_target_once_while_it_is_open(app):
    product = make_product()
    client = log_in(app.test_client(), make_user())

    report_product(client, product, reason="wrong_information", details="Sai xuất xứ")
    again = report_product(client, product, reason="wrong_information", details="Sai xuất xứ")

    assert "đã báo cáo" in again.get_data(as_text=True)
    assert len(open_reports()) == 1


@pytest.mark.parametrize("app_config", [{"REPORT_RATE_LIMIT": "2 per hour"}], indirect=True)
def test_reports_are_rate_limited_per_visitor(app):
    products = [make_product(name=f"Khô cá {n}") for n in range(3)]
    client = app.test_client()

    first = [report_product(client, p, reason="offensive").status_code for p in products[:2]]
    third = report_product(client, products[2], reason="offensive")

    assert first == [302, 302]
    assert third.status_code == 429
    assert len(open_reports()) == 2


def test_resolving_a_group_closes_all_its_reports_and_acts_on_the_target(app):
    product = make_product(name="Khô mực Sông Đốc")
    other = make_product(name="Tôm khô Rạch Gốc")
    for reason in ("counterfeit", "counterfeit", "wrong_information"):
        report_product(app.test_client(), product, reason=reason, details=f"lý do {reason}")
    report_product(app.test_client(), other, reason="offensive")
    admin = log_in(app.test_client(), make_user(email="admin@camau.gov.vn", role=Role.ADMIN))

    queue = admin.get("/admin/reports").get_data(as_text=True)
    token = csrf_token_from(queue)
    url = f"/admin/reports/product/{product.id}/resolve"
    no_note = admin.post(url, data={"csrf_token": token, "resolution": "hide", "note": ""})
    assert len(open_reports()) == 4 and no_note.status_code == 302
    admin.post(url, data={"csrf_token": token, "resolution": "hide", "note": "Hàng giả"})
    late = admin.post(
        url,
        data={"csrf_token": token, "resolution": "dismiss", "note": "Xem lại"},
        follow_redirects=True,
    )

    assert queue.index("Khô mực Sông Đốc") < queue.index("Tôm khô Rạch Gốc")  # most reported
    assert "3 " in queue and "lý do wrong_information" in queue
    assert db.session.get(Product, product.id).status == ProductStatus.HIDDEN
    assert [r.target_id for r in open_reports()] == [other.id]
    closed = db.session.scalars(select(Report).where(Report.target_id == product.id)).all()
    assert {(r.resolution, r.note) for r in closed} == {("hide", "Hàng giả")}
    assert "đã được xử lý" in late.get_data(as_text=True)
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["product.hide", "reports.hide"]


def test_suspending_from_a_listing_report_suspends_its_shop(app):
    product = make_product()
    report_product(app.test_client(), product, reason="prohibited")
    admin = log_in(app.test_client(), make_user(email="admin@camau.gov.vn", role=Role.ADMIN))
    token = csrf_token_from(admin.get("/admin/reports").get_data(as_text=True))

    admin.post(
        f"/admin/reports/product/{product.id}/resolve",
        data={"csrf_token": token, "resolution": "suspend", "note": "Bán hàng cấm"},
    )

    assert db.session.get(Shop, product.shop_id).status == ShopStatus.SUSPENDED
    assert open_reports() == []
