"""Assisted onboarding: staff act for a farmer, in a marked mode, every change recorded."""

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.shops.models import Shop
from tests.catalog.test_views import product_form
from tests.conftest import csrf_token_from, submit_form
from tests.factories import log_in, make_user
from tests.shops.test_views import shop_form


def post(client, path, page="/admin/users"):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token})


def test_staff_open_a_shop_and_list_a_product_for_a_farmer(app):
    farmer = make_user(full_name="Nguyễn Văn Tư", email="tu@example.com")
    staff = make_user(email="staff@camau.gov.vn", full_name="Cán bộ Khuyến Nông", role=Role.ADMIN)
    client = log_in(app.test_client(), staff)

    started = post(client, f"/admin/users/{farmer.id}/assist", f"/admin/users/{farmer.id}")
    dashboard = client.get("/seller").get_data(as_text=True)
    opened = submit_form(client, "/seller/shop/new", shop_form(name="Khô Cá Chú Tư"))
    shop = db.session.scalar(select(Shop))
    listed = submit_form(client, "/seller/products/new", product_form(name="Khô cá sặc"))
    stopped = post(client, "/admin/assist/stop", "/seller")

    assert started.headers["Location"] == "/seller"
    assert "Nguyễn Văn Tư" in dashboard and "Chế độ hỗ trợ" in dashboard
    assert opened.status_code == listed.status_code == 302
    assert shop.owner_id == farmer.id and shop.name == "Khô Cá Chú Tư"
    assert db.session.scalar(select(Product)).shop_id == shop.id
    assert stopped.headers["Location"] == f"/admin/users/{farmer.id}"
    assert "Chế độ hỗ trợ" not in client.get("/seller").get_data(as_text=True)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.target_id) for e in entries] == [
        ("assist.start", staff.id, farmer.id),
        ("assist.action", staff.id, farmer.id),
        ("assist.action", staff.id, farmer.id),
        ("assist.stop", staff.id, farmer.id),
    ]
    assert [e.on_behalf_of_shop_id for e in entries[1:]] == [shop.id] * 3
    assert entries[2].after == {"page": "catalog.new_product"}
    audit = client.get("/admin/audit?target_type=user").get_data(as_text=True)
    assert f"cho gian hàng {shop.id}" in audit


def test_staff_cannot_act_for_a_banned_member_or_another_admin(app):
    banned = make_user()
    banned.banned_at = banned.created_at
    other_admin = make_user(role=Role.ADMIN)
    db.session.commit()
    client = log_in(app.test_client(), make_user(role=Role.ADMIN))

    for member in (banned, other_admin):
        post(client, f"/admin/users/{member.id}/assist", f"/admin/users/{member.id}")
        assert "Chế độ hỗ trợ" not in client.get("/seller").get_data(as_text=True)
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_logging_out_ends_assisted_mode_for_good(app):
    farmer = make_user()
    staff = make_user(email="staff@camau.gov.vn", role=Role.ADMIN)
    other = make_user(email="staff2@camau.gov.vn", role=Role.ADMIN)
    client = log_in(app.test_client(), staff)
    post(client, f"/admin/users/{farmer.id}/assist", f"/admin/users/{farmer.id}")

    post(client, "/account/logout", "/seller")
    log_in(client, other)

    assert "Chế độ hỗ trợ" not in client.get("/seller").get_data(as_text=True)
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["assist.start", "assist.stop"]


def test_trust_from_the_server_shell_is_audited(app):
    from tests.factories import make_shop

    shop = make_shop()
    runner = app.test_cli_runner()

    runner.invoke(args=["shops", "trust", shop.slug])
    runner.invoke(args=["shops", "trust", shop.slug, "--off"])

    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["shop.trust", "shop.untrust"]
