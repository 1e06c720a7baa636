"""The sync module's pages: sellers choose channels and see where each listing stands;
admins configure channels, preview, enable, watch their health and retry dead letters.

Everything goes through the real pages, the real worker and a simulator over HTTP.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Category, Product
from marketplace.core.outbox import OutboxMessage
from marketplace.extensions import db
from marketplace.shops.models import ShopStatus
from marketplace.sync import services, worker
from marketplace.sync.models import Channel, ChannelListing, ListingExclusion, ShopChannel
from tests.conftest import csrf_token_from, submit_form
from tests.factories import leaf_category, log_in, make_image, make_product, make_shop, make_user
from tests.sync.test_worker import SECRET, run_once, state

pytestmark = pytest.mark.usefixtures("fast_sync")


@pytest.fixture
def fast_sync(app):
    app.config.update(SYNC_RETRY_BASE_SECONDS=0.01, SYNC_HTTP_TIMEOUT=1.0)


def listing(shop, **fields) -> Product:
    fields.setdefault("images", [make_image()])
    fields.setdefault("weight_grams", 500)
    fields.setdefault("description_md", "Phơi nắng ba ngày tại Năm Căn.")
    return make_product(shop=shop, **fields)


def enabled_channel(base: str, kind: str = "postmart", map_rest: str = "pm-101") -> Channel:
    channel = services.add_channel(
        code=kind, name="Postmart" if kind == "postmart" else "Voso", connector=kind,
        base_url=base, credentials=SECRET if kind == "postmart" else f"camau:{SECRET}",
        requests_per_second=200,
    )  # fmt: skip
    every_category = db.session.scalars(select(Category.id))
    services.set_category_map(channel, dict.fromkeys(every_category, map_rest))
    services.enable_channel(channel)
    db.session.commit()
    return channel


def post_button(client, page_url: str, action: str, **data) -> object:
    """Press a button of ``page_url`` as a browser does: with that page's CSRF token."""
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def channel_line(html: str, product_name: str) -> str:
    """The dashboard's channel lines of one listing, as text."""
    start = html.index(f'class="name">{product_name}<')
    block = html[start : html.index('class="quick-edit"', start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block))


# -- sellers -------------------------------------------------------------------------------


def test_a_seller_joins_a_channel_and_sees_each_listing_live_with_its_link(app, client, simulator):
    base = simulator("postmart")
    shop = make_shop(name="Khô Cá Bà Tư")
    dried = listing(shop, name="Khô cá lóc Bà Tư")
    channel = enabled_channel(base)
    log_in(client, shop.owner)

    page = client.get("/seller").get_data(as_text=True)
    assert "Hiển thị sản phẩm của tôi ở đó" in page
    response = post_button(client, "/seller", "/seller/channels/postmart/join")
    assert response.status_code == 302
    assert db.session.get(ShopChannel, (shop.id, channel.id)) is not None

    page = client.get("/seller").get_data(as_text=True)
    assert "Postmart: Đang gửi" in channel_line(page, "Khô cá lóc Bà Tư")

    run_once(app)
    [held] = state(base)["listings"]
    assert held["reference"] == f"cm-{dried.id}"
    page = client.get("/seller").get_data(as_text=True)
    line = channel_line(page, "Khô cá lóc Bà Tư")
    assert "Postmart: Đang hiển thị" in line
    assert f'href="{base}/sp/{held["external_id"]}"' in page  # to the channel's own page


def test_a_seller_keeps_one_listing_off_a_channel_and_lets_it_back(app, client, simulator):
    base = simulator("postmart")
    shop = make_shop()
    kept, other = listing(shop, name="Mắm ba khía"), listing(shop, name="Tôm khô")
    channel = enabled_channel(base)
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    assert len(state(base)["listings"]) == 2
    log_in(client, shop.owner)

    post_button(client, "/seller", f"/seller/products/{kept.id}/channels/postmart/exclude")
    assert db.session.get(ListingExclusion, (kept.id, channel.id)) is not None
    run_once(app)
    assert [item["reference"] for item in state(base)["listings"]] == [f"cm-{other.id}"]
    page = client.get("/seller").get_data(as_text=True)
    assert "Postmart: Bạn chọn không đưa lên" in channel_line(page, "Mắm ba khía")
    assert "Postmart: Đang hiển thị" in channel_line(page, "Tôm khô")

    post_button(client, "/seller", f"/seller/products/{kept.id}/channels/postmart/include")
    run_once(app)
    assert len(state(base)["listings"]) == 2


def test_leaving_a_channel_removes_the_shops_listings_and_shows_them_removed(
    app, client, simulator
):
    base = simulator("postmart")
    shop = make_shop()
    listing(shop, name="Ba khía muối")
    channel = enabled_channel(base)
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    log_in(client, shop.owner)

    post_button(client, "/seller", "/seller/channels/postmart/leave")
    run_once(app)
    assert state(base)["listings"] == []
    page = client.get("/seller").get_data(as_text=True)
    assert "Hiển thị sản phẩm của tôi ở đó" in page
    assert "Ba khía muối" in page and "Postmart: Đã gỡ" not in page  # no longer on it


def test_a_listing_taken_off_sale_is_shown_removed_from_the_channel(app, client, simulator):
    base = simulator("postmart")
    shop = make_shop()
    honey = listing(shop, name="Mật ong U Minh")
    channel = enabled_channel(base)
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    catalog.unpublish_product(db.session.get(Product, honey.id))
    db.session.commit()
    run_once(app)
    log_in(client, shop.owner)
    page = client.get("/seller").get_data(as_text=True)
    assert "Postmart: Đã gỡ" in channel_line(page, "Mật ong U Minh")


def test_a_failed_listing_says_why_in_plain_vietnamese(app, client, simulator):
    base = simulator("postmart")
    shop = make_shop()
    listing(shop, name="Cua Cà Mau")
    no_weight = listing(shop, name="Bánh phồng tôm")
    # An admin's mistake: a channel category postmart does not have.
    channel = enabled_channel(base, map_rest="pm-999")
    product = db.session.get(Product, no_weight.id)
    product.weight_grams = None
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    log_in(client, shop.owner)

    page = client.get("/seller").get_data(as_text=True)
    refused = channel_line(page, "Cua Cà Mau")
    assert "Postmart: Chưa gửi được" in refused
    assert "Danh mục pm-999 không tồn tại" in refused  # the channel's own words
    missing = channel_line(page, "Bánh phồng tôm")
    assert "thiếu khối lượng cả bao bì" in missing  # its weight with packaging is missing
    assert "HTTP" not in refused + missing


def test_sellers_cannot_touch_another_shops_listing_or_a_channel_that_is_off(
    app, client, simulator
):
    base = simulator("postmart")
    enabled_channel(base)
    services.add_channel(code="voso", name="Voso", connector="voso", base_url=base,
                         credentials="a:b")  # fmt: skip
    db.session.commit()
    mine, theirs = make_shop(), make_shop(name="Shop Khác")
    other = listing(theirs)
    log_in(client, mine.owner)
    exclude = f"/seller/products/{other.id}/channels/postmart/exclude"
    assert post_button(client, "/seller", exclude).status_code == 404
    assert post_button(client, "/seller", "/seller/channels/voso/join").status_code == 404
    assert post_button(client, "/seller", "/seller/channels/nope/join").status_code == 404
    assert db.session.scalars(select(ListingExclusion)).all() == []


# -- admins --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    return log_in(client, make_user(role=Role.ADMIN))


def test_only_administrators_open_the_channel_pages(client):
    log_in(client, make_user(role=Role.MODERATOR))
    assert client.get("/admin/channels/").status_code == 403


def test_an_admin_adds_a_channel_whose_credentials_are_never_shown_again(admin_client):
    form = {"code": "postmart", "name": "Postmart VNPost", "connector": "postmart",
            "base_url": "http://127.0.0.1:9/api", "credentials": SECRET,
            "requests_per_second": "2,5"}  # fmt: skip
    response = submit_form(admin_client, "/admin/channels/", form)
    assert response.status_code == 302
    channel = services.channel_by_code("postmart")
    assert (channel.enabled, channel.requests_per_second) == (False, 2.5)
    assert SECRET not in (channel.credentials_encrypted or "")
    page = admin_client.get("/admin/channels/postmart").get_data(as_text=True)
    assert SECRET not in page and "Postmart VNPost" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("base_url", "http://example.com/api"), ("requests_per_second", "nhanh"),
     ("code", "Post Mart"), ("base_url", "ftp://127.0.0.1/x"), ("requests_per_second", "0")],
)  # fmt: skip
def test_a_bad_channel_setting_is_refused_with_a_message(admin_client, field, value):
    form = {"code": "postmart", "name": "Postmart", "connector": "postmart",
            "base_url": "https://api.postmart.example", "requests_per_second": "5",
            field: value}  # fmt: skip
    response = submit_form(admin_client, "/admin/channels/", form)
    assert response.status_code == 422
    assert 'class="errors"' in response.get_data(as_text=True) or "form-errors" in (
        response.get_data(as_text=True)
    )
    assert db.session.scalar(select(Channel)) is None


def test_an_admin_maps_categories_from_the_channels_tree_previews_and_enables(
    app, admin_client, simulator
):
    base = simulator("postmart")
    channel = services.add_channel(
        code="postmart", name="Postmart", connector="postmart", base_url=base,
        credentials=SECRET, requests_per_second=200,
    )  # fmt: skip
    shop = make_shop()
    services.opt_in(shop, channel)
    db.session.commit()
    dried = listing(shop, name="Khô cá sặc", category=leaf_category("kho-ca"))
    no_picture = listing(shop, name="Chả cá thác lác", images=[])
    page = admin_client.get("/admin/channels/postmart").get_data(as_text=True)
    assert "Thủy hải sản khô" in page  # the simulator's category tree, asked of it
    assert "Chả cá thác lác" in page  # refused in the preview…
    assert "disabled" in page  # …and enabling waits for the category map

    category_id = dried.category_id
    response = post_button(admin_client, "/admin/channels/postmart",
                           "/admin/channels/postmart/categories",
                           **{f"category-{category_id}": "pm-101"})  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(channel)
    assert channel.category_map == {str(category_id): "pm-101"}

    response = post_button(admin_client, "/admin/channels/postmart",
                           "/admin/channels/postmart/enable")  # fmt: skip
    assert response.status_code == 302
    run_once(app)
    assert [item["reference"] for item in state(base)["listings"]] == [f"cm-{dried.id}"]
    page = admin_client.get("/admin/channels/").get_data(as_text=True)
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<tbody>")[1].split("</tr>")[0]))
    # live listings 1, shops 1, pending 0, failed 1 (no picture), dead 0, queue 0, –,
    # errors 0,0 % (of 1 request: the refused listing was never sent)
    assert re.search(r"Postmart .* 1 1 0 1 0 0 – 0,0 % \(0/1\)", row), row
    refused = db.session.scalar(
        select(ChannelListing).where(ChannelListing.product_id == no_picture.id)
    )
    assert (refused.status, refused.details["missing"]) == ("failed", ["image_urls"])


def test_dead_letters_are_listed_for_admins_and_retried_with_the_button(
    app, admin_client, simulator
):
    base = simulator("postmart", error_rate=1.0)
    shop = make_shop()
    listing(shop, name="Khô mực Sông Đốc")
    channel = enabled_channel(base)
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)  # every attempt fails: a dead letter at the end
    page = admin_client.get("/admin/channels/postmart").get_data(as_text=True)
    assert "Khô mực Sông Đốc" in page and "HTTP 503" in page
    assert services.status(channel)["dead"] == 1

    response = post_button(admin_client, "/admin/channels/postmart",
                           "/admin/channels/postmart/dead-letters/retry")  # fmt: skip
    assert response.status_code == 302
    db.session.rollback()
    waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sync")).all()
    assert [(m.dead_at, m.attempts) for m in waiting] == [(None, 0)]


def test_the_bulk_upload_sheet_has_the_channels_columns_and_vietnamese_intact(
    app, admin_client, simulator
):
    base = simulator("voso")
    shop = make_shop(name="Đặc Sản Đất Mũi")
    dried = listing(shop, name="Khô cá dứa một nắng", price_vnd=420_000)
    listing(shop, name='=HYPERLINK("http://evil")')
    channel = enabled_channel(base, kind="voso", map_rest="11")
    services.opt_in(shop, channel)
    db.session.commit()
    response = admin_client.get("/admin/channels/voso/bulk-upload.csv", buffered=True)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0]["sku"] == f"cm-{dried.id}"
    assert (rows[0]["title"], rows[0]["sale_price"], rows[0]["cat_id"]) == (
        "Khô cá dứa một nắng", "420000", "11",
    )  # fmt: skip
    assert rows[0]["brand_name"] == "Đặc Sản Đất Mũi"
    assert rows[1]["title"] == '\'=HYPERLINK("http://evil")'  # text, not a formula
    shell = app.test_cli_runner().invoke(args=["sync", "channel", "export", "voso"])
    # The same sheet from the shell (the test runner turns \r\n into \n).
    assert shell.exit_code == 0
    assert shell.output.splitlines() == text.splitlines()


def test_the_provincial_report_counts_shops_and_listings_live_per_channel(
    app, admin_client, simulator
):
    base = simulator("postmart")
    shops = [make_shop(name=name) for name in ("Shop Một", "Shop Hai")]
    for shop in shops:
        listing(shop)
        listing(shop)
    channel = enabled_channel(base)
    for shop in shops:
        services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    page = admin_client.get("/admin/report").get_data(as_text=True)
    assert re.search(r"<td>Postmart</td><td>2</td><td>4</td>", page)
    report = admin_client.get("/admin/report.csv").get_data(as_text=True)
    assert "live_on_channel,Postmart,2,4" in report


def test_an_admin_puts_every_approved_shop_on_a_channel_with_one_button(admin_client):
    services.add_channel(code="google", name="Google", connector="feed", base_url=None,
                         credentials=None)  # fmt: skip
    approved, pending = make_shop(), make_shop(status=ShopStatus.PENDING, name="Chờ Duyệt")
    db.session.commit()
    response = post_button(admin_client, "/admin/channels/google", "/admin/channels/google/shops")
    assert response.status_code == 302
    joined = db.session.scalars(select(ShopChannel.shop_id)).all()
    assert joined == [approved.id] and pending.id not in joined


def test_a_refused_settings_form_of_a_push_channel_says_why_at_once(app, admin_client, simulator):
    """Showing the form again must not ask the channel anything: the request holds the
    write lock, which the rate-limit turn would wait for (20 s, then a 500)."""
    enabled_channel(simulator("postmart"))
    for field, value, message in [
        ("name", "", "bắt buộc"),
        ("markup_percent", "1e309", "Hãy viết số như 5, 2.5 hoặc 2,5."),
        ("stock_max_shown", "５", "Hãy ghi số nguyên"),
        ("stock_held_back", "999999999999999", "Từ 0 đến 1000000"),
        ("requests_per_second", "0", "từ 0 đến 1000"),
    ]:
        form = {"name": "Postmart", "connector": "postmart", "base_url": "http://127.0.0.1:9",
                "requests_per_second": "5", field: value}  # fmt: skip
        response = submit_form(admin_client, "/admin/channels/postmart", form)
        assert response.status_code == 422, (field, value)
        assert message in response.get_data(as_text=True), (field, value)
    db.session.rollback()
    assert services.channel_by_code("postmart").requests_per_second == 200


def test_adding_a_channel_never_takes_over_one_with_the_same_code(admin_client, simulator):
    channel = enabled_channel(simulator("postmart"))
    sealed = channel.credentials_encrypted
    form = {"code": " postmart ", "name": "Giả mạo", "connector": "postmart",
            "base_url": "http://127.0.0.1:9999", "credentials": "HIJACKED",
            "requests_per_second": "5"}  # fmt: skip
    response = submit_form(admin_client, "/admin/channels/", form)
    assert response.status_code == 422
    assert "Đã có kênh với mã này." in response.get_data(as_text=True)
    db.session.rollback()
    channel = services.channel_by_code("postmart")
    assert (channel.name, channel.credentials_encrypted) == ("Postmart", sealed)


def test_a_channel_holding_listings_cannot_change_type(app, admin_client, simulator):
    base = simulator("postmart")
    shop = make_shop()
    listing(shop)
    channel = enabled_channel(base)
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    form = {"name": "Postmart", "connector": "feed", "base_url": "", "requests_per_second": "5"}
    response = submit_form(admin_client, "/admin/channels/postmart", form)
    assert response.status_code == 422
    db.session.rollback()
    assert services.channel_by_code("postmart").connector == "postmart"


def test_the_channel_page_does_not_wait_for_a_paused_channel(admin_client, simulator):
    channel = enabled_channel(simulator("postmart"))
    worker.pause_channel(channel.id, 300)  # a 429 with Retry-After: 300

    response = admin_client.get("/admin/channels/postmart")

    assert response.status_code == 200
    assert "kênh đang bận" in response.get_data(as_text=True)


def test_mapping_one_category_keeps_the_others(admin_client, simulator):
    leaf_category()  # the default category tree
    channel = enabled_channel(simulator("postmart"), map_rest="pm-101")
    before = dict(channel.category_map)
    first, *others = sorted(before, key=int)
    post_button(admin_client, "/admin/channels/postmart", "/admin/channels/postmart/categories",
                **{f"category-{first}": "pm-102"})  # fmt: skip
    db.session.refresh(channel)
    assert channel.category_map == {**before, first: "pm-102"}
    assert all(channel.category_map[key] == "pm-101" for key in others)


def test_channel_buttons_without_the_forms_token_change_nothing(admin_client, simulator):
    enabled_channel(simulator("postmart"))
    assert admin_client.post("/admin/channels/postmart/disable").status_code == 400
    db.session.rollback()
    assert services.channel_by_code("postmart").enabled


def test_on_a_feed_channel_a_seller_sees_each_listing_in_the_feed_or_why_not(app, client):
    shop = make_shop()
    listing(shop, name="Mật ong U Minh")
    listing(shop, name="Chả cá thác lác", images=[])
    channel = services.add_channel(code="google", name="Google", connector="feed",
                                   base_url=None, credentials=None)  # fmt: skip
    services.opt_in(shop, channel)
    db.session.commit()
    services.enable_channel(channel)
    db.session.commit()
    run_once(app)
    log_in(client, shop.owner)
    page = client.get("/seller").get_data(as_text=True)
    assert "Google: Đang hiển thị" in channel_line(page, "Mật ong U Minh")
    assert "chưa có ảnh" in channel_line(page, "Chả cá thác lác")


def test_switching_a_channel_off_removes_only_what_it_may_hold(app, simulator):
    base = simulator("postmart")
    shop = make_shop()
    listing(shop, name="Khô cá")
    listing(shop, name="Không cân", weight_grams=None)  # refused: never sent
    channel = enabled_channel(base)
    services.opt_in(shop, channel)
    db.session.commit()
    run_once(app)
    assert services.disable_channel(services.channel_by_code("postmart")) == 1
