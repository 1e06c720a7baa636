"""A live shop's new name and legal details wait for review; the rest applies at once."""

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.core.models import RevisionStatus
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.shops.models import Shop, ShopRevision, ShopStatus
from tests.conftest import csrf_token_from, submit_form
from tests.factories import log_in, make_shop, make_user
from tests.shops.test_views import shop_form


def edit(client, **fields):
    return submit_form(client, "/seller/shop/edit", shop_form(**fields))


def decide(client, revision, **data):
    path = f"/admin/shop-revisions/{revision.id}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(f"{path}/decide", data={"csrf_token": token, **data})


def test_a_new_name_and_tax_code_wait_while_the_description_applies_at_once(app):
    shop = make_shop(name="Khô Cá Lóc Út Hiền")
    seller = log_in(app.test_client(), shop.owner)

    response = edit(
        seller,
        name="Đặc Sản Út Hiền Cà Mau",
        tax_code="0100109106",
        description="Khô cá lóc, khô cá sặc, mắm tự làm.",
        slug=shop.slug,
    )

    live = db.session.get(Shop, shop.id)
    assert response.status_code == 302
    assert live.name == "Khô Cá Lóc Út Hiền" and live.tax_code == "2000123453"
    assert live.description == "Khô cá lóc, khô cá sặc, mắm tự làm."
    [revision] = db.session.scalars(select(ShopRevision)).all()
    assert revision.content["name"] == "Đặc Sản Út Hiền Cà Mau"
    assert revision.content["tax_code"] == "0100109106"
    assert "Khô Cá Lóc Út Hiền" in app.test_client().get(f"/gian-hang/{shop.slug}").text
    assert "Đặc Sản Út Hiền Cà Mau" in seller.get("/seller").get_data(as_text=True)
    assert 'value="Đặc Sản Út Hiền Cà Mau"' in seller.get("/seller/shop/edit").get_data(
        as_text=True
    )

    admin = log_in(app.test_client(), make_user(role=Role.ADMIN))
    queue = admin.get("/admin/shops").get_data(as_text=True)
    page = admin.get(f"/admin/shop-revisions/{revision.id}").get_data(as_text=True)
    decide(admin, revision, decision="approve")

    assert "Đặc Sản Út Hiền Cà Mau" in queue
    assert "2000123453" in page and "0100109106" in page
    live = db.session.get(Shop, shop.id)
    assert (live.name, live.tax_code) == ("Đặc Sản Út Hiền Cà Mau", "0100109106")
    assert "Đặc Sản Út Hiền Cà Mau" in app.test_client().get(f"/gian-hang/{shop.slug}").text
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert entry.action == "shop_revision.approve"


def test_a_refused_change_leaves_the_approved_details_and_tells_why(app):
    shop = make_shop(name="Mật Ong U Minh Hạ")
    seller = log_in(app.test_client(), shop.owner)
    edit(seller, name="Mật Ong Rừng Số 1 Việt Nam", slug=shop.slug)
    revision = db.session.scalar(select(ShopRevision))
    admin = log_in(app.test_client(), make_user(role=Role.ADMIN))

    decide(admin, revision, decision="reject", reason="other", details="Tên quảng cáo quá mức.")

    assert db.session.get(Shop, shop.id).name == "Mật Ong U Minh Hạ"
    assert db.session.get(ShopRevision, revision.id).status == RevisionStatus.REJECTED
    assert "Tên quảng cáo quá mức." in seller.get("/seller").get_data(as_text=True)


def test_saving_other_details_keeps_a_waiting_change_and_undoing_it_withdraws_it(app):
    shop = make_shop(name="Tôm Khô Năm Căn")
    seller = log_in(app.test_client(), shop.owner)
    edit(seller, name="Tôm Khô Đất Mũi", slug=shop.slug)

    edit(seller, name="Tôm Khô Đất Mũi", slug=shop.slug, street="Ấp 5")
    waiting = db.session.scalars(
        select(ShopRevision).where(ShopRevision.status == RevisionStatus.PENDING)
    ).all()
    assert [r.content["name"] for r in waiting] == ["Tôm Khô Đất Mũi"]
    assert db.session.get(Shop, shop.id).street == "Ấp 5"

    edit(seller, name="Tôm Khô Năm Căn", slug=shop.slug, street="Ấp 5")

    assert (
        db.session.scalar(select(ShopRevision).where(ShopRevision.status == RevisionStatus.PENDING))
        is None
    )


def test_a_shop_waiting_for_its_first_review_changes_directly(app):
    shop = make_shop(status=ShopStatus.PENDING, name="Bánh Phồng Tôm Cái Nước")
    seller = log_in(app.test_client(), shop.owner)

    edit(seller, name="Bánh Phồng Tôm Cô Ba Cái Nước", slug=shop.slug)

    assert db.session.get(Shop, shop.id).name == "Bánh Phồng Tôm Cô Ba Cái Nước"
    assert db.session.scalars(select(ShopRevision)).all() == []
