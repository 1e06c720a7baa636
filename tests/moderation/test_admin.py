"""The back office: who may enter, decisions on the queues, and the audit log."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductRevision, ProductStatus
from marketplace.core.models import utcnow
from marketplace.extensions import db
from marketplace.media import services as media
from marketplace.moderation.models import AuditEntry
from marketplace.moderation.views import ACTIONS, ADMIN_ONLY
from marketplace.shops import services as shops
from marketplace.shops.models import Shop, ShopRevision, ShopStatus
from marketplace.sync import services as sync
from tests.conftest import csrf_token_from
from tests.factories import (
    log_in,
    make_product,
    make_shop,
    make_user,
    product_input,
    shop_details,
)


def entries(action=None):
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def admin(app):
    return make_user(email="admin@camau.gov.vn", full_name="Trần Văn Kiểm", role=Role.ADMIN)


def decide(client, path, **data):
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(f"{path}/decide", data={"csrf_token": token, **data})


# -- access ------------------------------------------------------------------------------


def test_every_admin_route_is_for_admins_only(app, admin):
    pending_shop = make_shop(status=ShopStatus.PENDING, owner=make_user())
    product = make_product(status=ProductStatus.PENDING)
    live = make_product(name="Tôm khô Rạch Gốc")
    catalog.update_product(
        live, product_input(name="Tôm khô Rạch Gốc loại 1"), [], author=live.shop.owner
    )
    db.session.commit()
    revision = db.session.scalar(select(ProductRevision))
    live_shop = make_shop(name="Cơ sở Đổi Tên")
    papers = media.store_document(b"%PDF-1.4 giay phep", "giay-phep.pdf")
    shops.update_shop(
        live_shop,
        shop_details(name="Cơ sở Tên Mới"),
        author=live_shop.owner,
        registration_document=papers,
    )
    db.session.commit()
    shop_revision = db.session.scalar(select(ShopRevision))
    people = {
        "shopper": make_user(),
        "seller": make_shop().owner,
        "moderator": make_user(role=Role.MODERATOR),
        "admin": admin,
    }
    ids = {
        "shop": pending_shop.id,
        "product": product.id,
        "revision": revision.id,
        "shop-revision": shop_revision.id,
        "user": people["shopper"].id,
    }
    # A feed channel: its pages ask no outside address for its categories.
    sync.add_channel(code="google", name="Google", connector="feed", base_url=None,
                     credentials=None)  # fmt: skip
    db.session.commit()
    actions = {**ACTIONS, "channel": ["enable", "disable"]}
    order = _an_order()
    urls = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        kind = rule.rule.split("/")[2].rstrip("s")
        values = {"item_id": ids[kind]} if "item_id" in rule.arguments else {}
        if "code" in rule.arguments:
            values = {"code": "google"}
        if "target_id" in rule.arguments:  # reports, of a listing here
            values = {"target_type": "product", "target_id": ids["product"]}
        if "number" in rule.arguments:
            values = {"number": order.number}
        if "shop_id" in rule.arguments:
            values = {"shop_id": order.shop_id}
        steps = [{"step": s} for s in ("received", "cancel")] if "step" in rule.arguments else [{}]
        for action in actions[kind] if "action" in rule.arguments else [None]:
            for step in steps:
                built = {**values, **step, **({"action": action} if action else {})}
                path = urls.build(rule.endpoint, built)
                methods = sorted(rule.methods & {"GET", "POST"})
                routes += [(path, method, rule.endpoint) for method in methods]
    assert len(routes) >= 25

    for who in ("anonymous", "shopper", "seller", "moderator", "admin"):
        client = app.test_client()
        if who != "anonymous":
            log_in(client, people[who])
        token = csrf_token_from(client.get("/account/login" if who == "anonymous" else "/").text)
        for path, method, endpoint in routes:
            if method == "GET":
                response = client.get(path, buffered=True)  # streamed CSVs too
            else:
                response = client.post(path, data={"csrf_token": token, "decision": "approve"})
            if who == "anonymous":
                assert response.status_code == 302, (who, method, path)
                assert "/account/login" in response.headers["Location"]
            elif who in ("shopper", "seller") or (
                who == "moderator"
                and (
                    endpoint in ADMIN_ONLY
                    or endpoint.startswith(("channels.", "orders.", "payments."))
                )
            ):
                assert response.status_code == 403, (who, method, path)
            else:
                # A channel form sent empty is refused: the form says why.
                forms = ("channels.add", "channels.save")
                allowed = (200, 302, 422) if endpoint in forms else (200, 302, 303)
                assert response.status_code in allowed, (who, method, path)


def _an_order():
    """A cash-on-delivery order placed through the service, for the order pages."""
    from marketplace.cart import services as carts
    from marketplace.orders import services as orders
    from marketplace.orders.models import PaymentMethod
    from marketplace.shops import places

    buyer, product = make_user(), make_product(name="Mật ong rừng", stock=5)
    cart = carts.MemberCart(buyer)
    carts.add(cart, product, 1)
    province = places.default_province_code()
    shipping = orders.Shipping("Trần Văn Bình", "0987 654 321", "12 Lý Thường Kiệt", province,
                               places.communes(province)[0].code)  # fmt: skip
    record = orders.checkout(buyer, cart, shipping, PaymentMethod.COD, "t" * 20, card_enabled=False)
    db.session.commit()
    return record.orders[0]


# -- decisions ------------------------------------------------------------------------------


def test_approving_a_shop_records_it_and_tells_the_seller(app, admin, caplog):
    shop = make_shop(status=ShopStatus.PENDING, name="Mật Ong U Minh Hạ")
    client = log_in(app.test_client(), admin)

    page = client.get(f"/admin/shops/{shop.id}").get_data(as_text=True)
    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        response = decide(client, f"/admin/shops/{shop.id}", decision="approve")

    assert "Mật Ong U Minh Hạ" in page and "2000123453" in page
    assert response.status_code == 302
    assert db.session.get(Shop, shop.id).status == ShopStatus.APPROVED
    [entry] = entries("shop.approve")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "shop", shop.id)
    assert entry.before["status"] == "pending" and entry.after["status"] == "approved"
    assert shop.owner.email in caplog.text and "Mật Ong U Minh Hạ" in caplog.text


def test_a_refusal_needs_a_reason_the_seller_then_reads(app, admin):
    product = make_product(status=ProductStatus.PENDING, name="Khô cá sặc")
    client = log_in(app.test_client(), admin)

    without = decide(client, f"/admin/products/{product.id}", decision="reject", reason="")
    other_without_words = decide(
        client, f"/admin/products/{product.id}", decision="reject", reason="other"
    )
    assert db.session.get(Product, product.id).status == ProductStatus.PENDING
    assert without.status_code == other_without_words.status_code == 302
    assert entries() == []

    decide(
        client,
        f"/admin/products/{product.id}",
        decision="reject",
        reason="photos",
        details="Chụp lại trên nền sáng.",
    )

    refused = db.session.get(Product, product.id)
    assert refused.status == ProductStatus.REJECTED
    assert refused.status_reason.endswith("Chụp lại trên nền sáng.")
    seller = log_in(app.test_client(), refused.shop.owner)
    assert "Chụp lại trên nền sáng." in seller.get("/seller").get_data(as_text=True)
    catalog.submit_product(refused)
    db.session.commit()
    assert "Khô cá sặc" in client.get("/admin/products").get_data(as_text=True)


def test_the_second_of_two_admins_sees_the_item_was_already_decided(app, admin):
    product = make_product(status=ProductStatus.PENDING)
    other = make_user(email="admin2@camau.gov.vn", role=Role.ADMIN)
    first, second = log_in(app.test_client(), admin), log_in(app.test_client(), other)
    path = f"/admin/products/{product.id}"
    first_token = csrf_token_from(first.get(path).get_data(as_text=True))
    second_token = csrf_token_from(second.get(path).get_data(as_text=True))

    first.post(f"{path}/decide", data={"csrf_token": first_token, "decision": "approve"})
    late = second.post(
        f"{path}/decide",
        data={"csrf_token": second_token, "decision": "reject", "reason": "price"},
        follow_redirects=True,
    )

    assert "Sản phẩm này đã được quyết định rồi." in late.get_data(as_text=True)
    assert db.session.get(Product, product.id).status == ProductStatus.PUBLISHED
    assert [e.action for e in entries()] == ["product.approve"]


def test_after_a_decision_the_next_item_opens(app, admin):
    older = make_product(status=ProductStatus.PENDING, name="Cũ")
    newer = make_product(status=ProductStatus.PENDING, name="Mới")
    db.session.get(Product, older.id).updated_at = utcnow() - timedelta(days=2)
    db.session.commit()
    client = log_in(app.test_client(), admin)

    queue = client.get("/admin/products").get_data(as_text=True)
    response = decide(client, f"/admin/products/{older.id}", decision="approve")

    assert queue.index("Cũ") < queue.index("Mới")
    assert 'class="waited stale"' in queue
    assert response.headers["Location"].endswith(f"/admin/products/{newer.id}")


def test_bulk_decisions_skip_what_others_decided_and_mail_the_rest(app, admin, caplog):
    products = [make_product(status=ProductStatus.PENDING, name=f"Tôm khô {n}") for n in range(3)]
    client = log_in(app.test_client(), admin)
    token = csrf_token_from(client.get("/admin/products").get_data(as_text=True))
    catalog.approve_product(db.session.get(Product, products[1].id))  # decided meanwhile
    db.session.commit()

    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        response = client.post(
            "/admin/products/bulk",
            data={
                "csrf_token": token,
                "decision": "reject",
                "reason": "category",
                "ids": [p.id for p in products],
            },
            follow_redirects=True,
        )

    statuses = [db.session.get(Product, p.id).status for p in products]
    assert statuses == [ProductStatus.REJECTED, ProductStatus.PUBLISHED, ProductStatus.REJECTED]
    assert len(entries("product.reject")) == 2
    assert caplog.text.count("Tôm khô 0") == 1 and caplog.text.count("Tôm khô 2") == 1
    assert "Tôm khô 1" not in caplog.text
    assert response.status_code == 200


def test_an_unknown_refusal_reason_is_named_not_called_an_expired_form(app, admin):
    product = make_product(status=ProductStatus.PENDING)
    client = log_in(app.test_client(), admin)
    path = f"/admin/products/{product.id}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))

    response = client.post(
        f"{path}/decide",
        data={"csrf_token": token, "decision": "reject", "reason": "khong-co"},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert "Lý do từ chối: Lựa chọn không hợp lệ." in html
    assert "hết hạn" not in html
    assert db.session.get(Product, product.id).status == ProductStatus.PENDING


def test_bulk_ids_that_do_not_exist_are_said_not_to_exist_in_one_query(app, admin):
    real = make_product(status=ProductStatus.PENDING)
    client = log_in(app.test_client(), admin)
    token = csrf_token_from(client.get("/admin/products").get_data(as_text=True))
    ghosts = list(range(1_000_000, 1_005_000))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.post(
            "/admin/products/bulk",
            data={"csrf_token": token, "decision": "approve", "ids": [real.id, *ghosts]},
            follow_redirects=True,
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)

    html = response.get_data(as_text=True)
    assert "5000 mục không tồn tại." in html
    assert "người khác quyết định" not in html
    assert db.session.get(Product, real.id).status == ProductStatus.PUBLISHED
    assert sum("FROM products" in sql for sql in statements) < 50


def test_a_staged_edit_shows_before_and_after_and_approval_applies_it(app, admin):
    product = make_product(name="Mật ong rừng")
    catalog.update_product(
        product,
        product_input(name="Mật ong rừng U Minh nguyên chất", origin="U Minh Hạ, Cà Mau"),
        [],
        author=product.shop.owner,
    )
    db.session.commit()
    revision = db.session.scalar(select(ProductRevision))
    client = log_in(app.test_client(), admin)

    page = client.get(f"/admin/revisions/{revision.id}").get_data(as_text=True)
    decide(client, f"/admin/revisions/{revision.id}", decision="approve")

    assert "Mật ong rừng U Minh nguyên chất" in page and "U Minh Hạ, Cà Mau" in page
    assert db.session.get(Product, product.id).name == "Mật ong rừng U Minh nguyên chất"
    assert [e.action for e in entries()] == ["revision.approve"]


# -- audit log ------------------------------------------------------------------------------


def test_the_audit_log_cannot_be_changed_or_deleted(app, admin):
    shop = make_shop(status=ShopStatus.PENDING)
    client = log_in(app.test_client(), admin)
    decide(client, f"/admin/shops/{shop.id}", decision="approve")

    for statement in ("UPDATE audit_log SET reason = 'sửa'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError):
            db.session.execute(sa.text(statement))
        db.session.rollback()

    assert db.session.scalar(select(func.count(AuditEntry.id))) == 1


def test_the_audit_log_is_searchable_and_exports_as_csv(app, admin):
    shops = [make_shop(status=ShopStatus.PENDING, name=f"Cơ sở Đất Mũi {n}") for n in range(2)]
    client = log_in(app.test_client(), admin)
    decide(client, f"/admin/shops/{shops[0].id}", decision="approve")
    decide(
        client,
        f"/admin/shops/{shops[1].id}",
        decision="reject",
        reason="legal",
        details="Mã số thuế sai",
    )

    by_target = client.get(f"/admin/audit?target_type=shop&target_id={shops[1].id}")
    by_admin = client.get("/admin/audit?actor=admin@camau.gov.vn")
    nobody = client.get("/admin/audit?actor=nobody@example.com")
    exported = client.get("/admin/audit.csv?target_type=shop")
    bad = client.get("/admin/audit?target_type=bogus")

    assert by_target.get_data(as_text=True).count("Gian hàng bị từ chối") == 1
    assert "Gian hàng được duyệt" not in by_target.get_data(as_text=True)
    assert by_admin.get_data(as_text=True).count("admin@camau.gov.vn") >= 2
    assert "Gian hàng được duyệt" not in nobody.get_data(as_text=True)
    csv_text = exported.get_data().decode("utf-8-sig")
    assert exported.mimetype == "text/csv"
    assert csv_text.splitlines()[0].startswith("id,at,actor,action")
    assert "Mã số thuế sai" in csv_text and len(csv_text.splitlines()) == 3
    assert bad.status_code == 400


def test_decisions_from_the_server_shell_are_audited_as_the_server(app, caplog):
    shop = make_shop(status=ShopStatus.PENDING)
    product = make_product(status=ProductStatus.PENDING)
    runner = app.test_cli_runner()

    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        shop_result = runner.invoke(args=["shops", "reject", shop.slug, "--reason", "Thiếu giấy"])
        product_result = runner.invoke(args=["catalog", "approve", str(product.id)])
        again = runner.invoke(args=["catalog", "approve", str(product.id)])

    assert shop_result.exit_code == product_result.exit_code == 0, shop_result.output
    assert again.exit_code == 1 and "đã được quyết định" in again.output
    assert [(e.action, e.actor_id) for e in entries()] == [
        ("shop.reject", None),
        ("product.approve", None),
    ]
    assert "http://" in caplog.text and "/seller" in caplog.text


def test_the_seller_dashboard_lists_each_decision_and_its_reason(app, admin):
    shop = make_shop(status=ShopStatus.PENDING, name="Cơ sở Bánh Phồng Tôm Năm Căn")
    product = make_product(shop=shop, status=ProductStatus.PENDING, name="Bánh phồng tôm")
    client = log_in(app.test_client(), admin)
    decide(client, f"/admin/shops/{shop.id}", decision="approve")
    decide(client, f"/admin/products/{product.id}", decision="reject", reason="price")

    page = log_in(app.test_client(), shop.owner).get("/seller").get_data(as_text=True)

    decisions = page[page.index("Quyết định của quản trị viên") :]
    assert decisions.index("Bánh phồng tôm: Sản phẩm bị từ chối") < decisions.index(
        "Cơ sở Bánh Phồng Tôm Năm Căn: Gian hàng được duyệt"
    )
    assert "Giá hoặc đơn vị tính chưa đúng" in decisions


def test_create_admin_makes_a_moderator_with_the_flag(app):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=[
            "create-admin",
            "kiemduyet@camau.gov.vn",
            "--moderator",
            "--password",
            "mat-khau-an-toan-2026",
        ]
    )

    assert result.exit_code == 0, result.output
    member = db.session.scalar(select(User).where(User.email == "kiemduyet@camau.gov.vn"))
    assert member.role == Role.MODERATOR and member.can_moderate and not member.is_admin
    [entry] = entries()
    assert (entry.action, entry.target_id, entry.actor_id) == ("user.role", member.id, None)
    assert (entry.before, entry.after) == (None, {"role": "moderator"})


def test_two_admins_deciding_at_the_same_moment_apply_one_decision(app, admin):
    import threading

    product = make_product(status=ProductStatus.PENDING)
    other = make_user(email="admin2@camau.gov.vn", role=Role.ADMIN)
    path = f"/admin/products/{product.id}"
    clients, tokens = [], []
    for person in (admin, other):
        client = log_in(app.test_client(), person)
        clients.append(client)
        tokens.append(csrf_token_from(client.get(path).get_data(as_text=True)))
    decisions = [{"decision": "approve"}, {"decision": "reject", "reason": "price"}]
    start, pages = threading.Barrier(2), [None, None]

    def decide_now(index):
        start.wait()
        response = clients[index].post(
            f"{path}/decide",
            data={"csrf_token": tokens[index], **decisions[index]},
            follow_redirects=True,
        )
        pages[index] = response.get_data(as_text=True)

    threads = [threading.Thread(target=decide_now, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    db.session.rollback()
    [entry] = entries()
    status = db.session.get(Product, product.id).status
    assert (entry.action, status) in {
        ("product.approve", ProductStatus.PUBLISHED),
        ("product.reject", ProductStatus.REJECTED),
    }
    assert sum("Sản phẩm này đã được quyết định rồi." in page for page in pages) == 1


def test_a_bulk_decision_with_a_bad_id_changes_nothing_and_mails_no_one(app, admin, caplog):
    product = make_product(status=ProductStatus.PENDING, name="Mắm ba khía")
    client = log_in(app.test_client(), admin)
    token = csrf_token_from(client.get("/admin/products").get_data(as_text=True))

    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        response = client.post(
            "/admin/products/bulk",
            data={
                "csrf_token": token,
                "decision": "approve",
                "ids": [product.id, "99999999999999999999"],
            },
        )

    assert response.status_code == 302
    assert db.session.get(Product, product.id).status == ProductStatus.PENDING
    assert "Mắm ba khía" not in caplog.text and entries() == []


def test_decisions_rolled_back_send_no_mail(app, admin, caplog):
    from marketplace.moderation import services

    products = [make_product(status=ProductStatus.PENDING, name=f"Khô cá {n}") for n in range(2)]

    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        services.decide_many(admin, "product", [p.id for p in products], approve=True)
        db.session.rollback()
        services.decide_many(admin, "product", [products[0].id], approve=True)
        db.session.commit()

    assert caplog.text.count("Khô cá 0") == 1 and "Khô cá 1" not in caplog.text


@pytest.mark.parametrize(
    "query",
    [
        "/admin/audit?target_id=99999999999999999999",
        "/admin/audit.csv?target_id=-1",
    ],
)
def test_out_of_range_audit_filters_are_refused(app, admin, query):
    client = log_in(app.test_client(), admin)

    assert client.get(query).status_code == 400


def test_list_links_keep_only_the_arguments_lists_understand(app, admin):
    for number in range(51):
        make_user(email=f"thanh.vien{number}@example.com")
    client = log_in(app.test_client(), admin)

    members = client.get("/admin/users?endpoint=x&_method=PUT&q=thanh.vien")
    audit = client.get("/admin/audit?endpoint=x&_external=1")

    assert members.status_code == audit.status_code == 200
    html = members.get_data(as_text=True)
    assert "page=2" in html and "q=thanh.vien" in html and "endpoint=x" not in html
