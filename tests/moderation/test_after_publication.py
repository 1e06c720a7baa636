"""After publication: hiding listings, suspending shops, trust and bans."""

from sqlalchemy import select

from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.shops.models import Shop, ShopStatus
from tests.conftest import csrf_token_from
from tests.factories import leaf_category, log_in, make_product, make_shop, make_user


def act(client, page, action, **data):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(f"{page}/{action}", data={"csrf_token": token, **data})


def actions():
    return [
        entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


def found(client, query):
    return client.get(f"/search?q={query}").get_data(as_text=True)


def admin_client(app):
    admin = make_user(email="admin@camau.gov.vn", role=Role.ADMIN)
    return log_in(app.test_client(), admin)


def test_hiding_a_listing_takes_it_off_pages_and_search_until_shown_again(app):
    product = make_product(name="Ba khía muối Rạch Gốc", category=leaf_category("mam-ba-khia"))
    admin, shopper = admin_client(app), app.test_client()
    public = f"/san-pham/{product.id}/{product.slug}"

    refused = act(admin, f"/admin/products/{product.id}", "hide", reason="")
    act(admin, f"/admin/products/{product.id}", "hide", reason="counterfeit")

    assert db.session.get(Product, product.id).status == ProductStatus.HIDDEN
    assert refused.status_code == 302 and actions() == ["product.hide"]
    assert shopper.get(public).status_code == 404
    assert "Ba khía muối Rạch Gốc" not in found(shopper, "ba khia")

    act(admin, f"/admin/products/{product.id}", "unhide")

    assert shopper.get(public).status_code == 200
    assert "Ba khía muối Rạch Gốc" in found(shopper, "ba khia")
    assert actions() == ["product.hide", "product.unhide"]


def test_reinstating_a_shop_brings_back_exactly_the_listings_that_were_public(app):
    shop = make_shop(name="Cơ sở Tôm Khô Năm Căn")
    live = [make_product(shop=shop, name=f"Tôm khô Năm Căn {n}") for n in range(2)]
    draft = make_product(shop=shop, name="Tôm khô Năm Căn nháp", status=ProductStatus.DRAFT)
    hidden = make_product(shop=shop, name="Tôm khô Năm Căn ẩn", status=ProductStatus.HIDDEN)
    admin, shopper = admin_client(app), app.test_client()

    act(admin, f"/admin/shops/{shop.id}", "suspend", reason="other", details="Giấy phép hết hạn")

    assert db.session.get(Shop, shop.id).status == ShopStatus.SUSPENDED
    assert "Tôm khô Năm Căn" not in found(shopper, "tom kho nam can")
    assert shopper.get(f"/gian-hang/{shop.slug}").status_code == 404
    assert all(shopper.get(f"/san-pham/{p.id}/{p.slug}").status_code == 404 for p in live)

    act(admin, f"/admin/shops/{shop.id}", "reinstate")

    results = found(shopper, "tom kho nam can")
    assert all(f"Tôm khô Năm Căn {n}" in results for n in range(2))
    assert "nháp" not in results and "ẩn" not in results
    assert db.session.get(Product, draft.id).status == ProductStatus.DRAFT
    assert db.session.get(Product, hidden.id).status == ProductStatus.HIDDEN
    assert actions() == ["shop.suspend", "shop.reinstate"]


def test_trusting_a_shop_is_recorded(app):
    shop = make_shop()
    admin = admin_client(app)

    act(admin, f"/admin/shops/{shop.id}", "trust")
    assert db.session.get(Shop, shop.id).trusted is True
    act(admin, f"/admin/shops/{shop.id}", "untrust")

    assert db.session.get(Shop, shop.id).trusted is False
    assert actions() == ["shop.trust", "shop.untrust"]


def test_a_banned_seller_is_logged_out_and_their_shop_suspended(app):
    shop = make_shop(name="Khô Mực Sông Đốc")
    seller = log_in(app.test_client(), shop.owner)
    admin = admin_client(app)
    assert seller.get("/seller").status_code == 200

    act(admin, f"/admin/users/{shop.owner_id}", "ban", reason="other", details="Bán hàng giả")

    assert seller.get("/seller").status_code == 302
    assert db.session.get(User, shop.owner_id).is_banned
    assert db.session.get(Shop, shop.id).status == ShopStatus.SUSPENDED
    assert actions() == ["user.ban", "shop.suspend"]

    act(admin, f"/admin/users/{shop.owner_id}", "unban")

    assert not db.session.get(User, shop.owner_id).is_banned
    assert db.session.get(Shop, shop.id).status == ShopStatus.SUSPENDED  # reinstated by hand
    log_in(app.test_client(), db.session.get(User, shop.owner_id))


def test_an_administrator_cannot_be_banned(app):
    other = make_user(email="admin2@camau.gov.vn", role=Role.ADMIN)
    admin = admin_client(app)

    response = act(admin, f"/admin/users/{other.id}", "ban", reason="offensive")

    assert response.status_code == 302
    assert not db.session.get(User, other.id).is_banned
    assert actions() == []


def test_admins_find_shops_listings_and_members_by_name(app):
    make_product(name="Mật ong hoa tràm U Minh")
    make_product(name="Khô cá đù một nắng")
    make_user(email="chi.lan@example.com", full_name="Lê Thị Chi Lan")
    admin = admin_client(app)

    listings = admin.get("/admin/products/all?q=ong hoa&status=published").get_data(as_text=True)
    members = admin.get("/admin/users?q=chi.lan").get_data(as_text=True)
    odd = admin.get("/admin/products/all?q=100%_&status=published").get_data(as_text=True)

    assert "Mật ong hoa tràm U Minh" in listings and "Khô cá đù" not in listings
    assert "Lê Thị Chi Lan" in members
    assert "Mật ong" not in odd
    assert admin.get("/admin/shops/all?status=bogus").status_code == 400


def test_nothing_new_becomes_public_through_a_suspended_shop(app):
    import pytest

    from marketplace.catalog import services as catalog
    from marketplace.moderation import services
    from marketplace.moderation.services import ModerationError

    shop = make_shop()
    draft = make_product(shop=shop, name="Nháp", status=ProductStatus.DRAFT)
    waiting = make_product(shop=shop, name="Chờ duyệt", status=ProductStatus.PENDING)
    hidden = make_product(shop=shop, name="Đã ẩn", status=ProductStatus.HIDDEN)
    admin = make_user(role=Role.ADMIN)
    services.suspend_shop(admin, shop.id, reason="Giấy phép hết hạn")
    db.session.commit()

    with pytest.raises(catalog.InvalidTransition):
        catalog.submit_product(db.session.get(Product, draft.id))
    with pytest.raises(ModerationError):
        services.decide_product(admin, waiting.id, approve=True)
    with pytest.raises(ModerationError):
        services.unhide_product(admin, hidden.id)
    db.session.rollback()

    assert waiting.id not in [p.id for p in services.product_queue()]
    assert "submit" not in catalog.allowed_actions(db.session.get(Product, draft.id))
    services.reinstate_shop(admin, shop.id)
    db.session.commit()
    assert waiting.id in [p.id for p in services.product_queue()]
