"""Channels: configured safely, previewed before enabling, fed by every listing change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Category
from marketplace.core.outbox import OutboxMessage
from marketplace.extensions import db
from marketplace.shops import services as shops
from marketplace.sync import secrets, services
from marketplace.sync.connectors import connector_for
from marketplace.sync.connectors.base import Access, Unavailable
from marketplace.sync.models import Channel, ListingExclusion
from tests.factories import leaf_category, make_image, make_product, make_shop

SECRET = "pm-live-8f3a2c9d7e"


def sync_keys() -> list[str]:
    db.session.rollback()  # a fresh snapshot
    query = select(OutboxMessage.key).where(OutboxMessage.topic == "sync").order_by("key")
    return list(db.session.scalars(query))


def postmart(**overrides) -> Channel:
    channel = services.add_channel(
        code="postmart", name="Postmart", connector="postmart",
        base_url=overrides.pop("base_url", "https://api.postmart.example/v1"),
        credentials=SECRET, **overrides,
    )  # fmt: skip
    db.session.commit()
    return channel


def listing(shop=None, **fields):
    fields.setdefault("images", [make_image()])
    fields.setdefault("weight_grams", 500)
    return make_product(shop=shop, **fields)


def test_credentials_are_stored_encrypted_and_read_back(app):
    channel = postmart()

    stored = db.session.scalar(select(Channel.credentials_encrypted))
    assert SECRET not in stored
    assert secrets.unseal(channel.credentials_encrypted) == SECRET


def test_credentials_sealed_under_another_key_are_reported_not_leaked(app):
    channel = postmart()
    app.config["SECRET_KEY"] = "another-secret-key-" + "y" * 40

    with pytest.raises(secrets.UnreadableCredentials) as refused:
        secrets.unseal(channel.credentials_encrypted)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "production"),
    [
        ("https://api.postmart.vn/v1", True),
        ("https://api.postmart.vn:8443/v1/", False),
        ("http://127.0.0.1:8081", False),
        ("http://localhost:8081", False),
    ],
)
def test_safe_base_urls_are_accepted(app, url, production):
    assert services.check_base_url(url, production=production) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "production"),
    [
        ("http://api.postmart.vn", False),  # plain http beyond this machine
        ("http://127.0.0.1:8081", True),  # the simulator, in production
        ("https://127.0.0.1", True),
        ("https://10.0.0.5/api", True),
        ("https://192.168.1.10", True),
        ("https://169.254.169.254/latest", True),  # a cloud's metadata service
        ("https://[fd00::1]/", True),
        ("https://intranet.local/", True),
        ("https://0x7f.0.0.1/", True),  # 127.0.0.1, as resolvers read it
        ("https://2130706433/", True),  # 127.0.0.1 again
        ("https://localhost./", True),
        ("https://metadata.google.internal./", True),
        ("https://100.64.0.1/", True),  # carrier-grade NAT: not the public internet
        ("https://[::ffff:10.0.0.1]/", True),
        ("https://intranet/", True),  # a single label resolves through local search domains
        ("https://[64:ff9b::a00:1]/", True),  # 10.0.0.1 through NAT64
        ("https://[2002:7f00:1::]/", True),  # 127.0.0.1 through 6to4
        ("https://user:pass@api.postmart.vn", False),
        ("ftp://api.postmart.vn", False),
        ("https://[", False),
    ],
)
def test_unsafe_base_urls_are_refused(app, url, production):
    with pytest.raises(services.ChannelError):
        services.check_base_url(url, production=production)


def test_a_feed_channel_needs_no_base_url_and_refuses_one(app):
    feed = services.add_channel(
        code="google", name="Google", connector="feed", base_url=None, credentials=None
    )
    assert feed.base_url is None
    with pytest.raises(services.ChannelError):
        services.add_channel(
            code="g2", name="G", connector="feed", base_url="https://x.vn", credentials=None
        )


@pytest.mark.parametrize(
    ("percent", "vnd", "price", "shown"),
    [
        (0, 0, 150_000, 150_000),
        (10, 0, 150_000, 165_000),
        (7.5, 0, 123_456, 133_000),  # 132 715 → nearest 1 000
        (0, 2_500, 100_000, 103_000),  # 102 500 rounds half up
        (5, 1_000, 1_000, 2_000),
    ],
)
def test_the_price_rule_marks_up_and_rounds_to_1000_dong(app, percent, vnd, price, shown):
    channel = postmart()
    services.set_rules(channel, markup_percent=percent, markup_vnd=vnd)

    assert services.channel_price(channel, price) == shown


def test_the_stock_rule_holds_units_back_and_caps_what_is_shown(app):
    channel = postmart()
    services.set_rules(channel, stock_held_back=2, stock_max_shown=50)

    assert [services.channel_stock(channel, n) for n in (0, 1, 2, 10, 500)] == [0, 0, 0, 8, 50]


def test_the_preview_lists_what_would_go_and_what_is_refused_with_why(app):
    channel = postmart()
    shop, other = make_shop(), make_shop(name="Không tham gia")
    services.opt_in(shop, channel)
    services.map_category(channel, leaf_category("kho-ca"), "pm-101")
    ready = listing(shop, name="Khô cá lóc", category=leaf_category("kho-ca"))
    unmapped = listing(shop, name="Mật ong", category=leaf_category("mat-ong"))
    no_picture = listing(shop, name="Khô cá sặc", category=leaf_category("kho-ca"), images=None)
    kept_off = listing(shop, name="Khô cá kèo", category=leaf_category("kho-ca"))
    db.session.add(ListingExclusion(product_id=kept_off.id, channel_id=channel.id))
    listing(other, name="Không tham gia", category=leaf_category("kho-ca"))
    listing(shop, name="Ẩn", category=leaf_category("kho-ca"), status=catalog.ProductStatus.HIDDEN)
    db.session.commit()

    result = services.preview(channel)

    assert [p.name for p in result.pushable] == [ready.name]
    refused = {
        product.name: services.refusal_reasons(missing) for product, missing in result.refused
    }
    assert set(refused) == {unmapped.name, no_picture.name}
    assert refused[no_picture.name] == ["chưa có ảnh"] or "ảnh" in refused[no_picture.name][0]
    assert result.unmapped_categories == {unmapped.category_id}


def test_enabling_is_refused_while_categories_are_unmapped_unless_mapped_to_the_rest(app):
    channel = postmart()
    shop = make_shop()
    services.opt_in(shop, channel)
    fish = listing(shop, category=leaf_category("kho-ca"))
    honey = listing(shop, category=leaf_category("mat-ong"))

    with pytest.raises(services.ChannelError, match="Mật ong"):
        services.enable_channel(channel)
    db.session.rollback()
    assert not db.session.get(Channel, channel.id).enabled

    result = services.enable_channel(db.session.get(Channel, channel.id), map_rest="pm-999")
    db.session.commit()

    assert {p.id for p in result.pushable} == {fish.id, honey.id}
    assert sync_keys() == sorted([f"{channel.id}:{fish.id}", f"{channel.id}:{honey.id}"])
    # Every category is mapped, those without listings too: a listing added later goes.
    every_category = db.session.scalars(select(Category.id)).all()
    assert len(every_category) > 2
    assert db.session.get(Channel, channel.id).category_map == {
        str(category_id): "pm-999" for category_id in every_category
    }


def test_every_change_to_a_listing_enqueues_one_sync_in_its_transaction(app):
    channel = postmart()
    shop, elsewhere = make_shop(), make_shop(name="Không tham gia")
    services.opt_in(shop, channel)
    product = listing(shop)
    outside = listing(elsewhere)
    services.enable_channel(channel, map_rest="pm-1")
    db.session.commit()
    db.session.query(OutboxMessage).delete()
    db.session.commit()

    for price in range(100_000, 110_000, 1_000):  # ten edits in a row
        catalog.set_price_and_stock(product, price_vnd=price, stock=5)
        db.session.commit()
    catalog.set_price_and_stock(outside, price_vnd=99_000, stock=1)
    db.session.commit()

    assert sync_keys() == [f"{channel.id}:{product.id}"]


@pytest.mark.parametrize("change", ["hide", "suspend", "delete"])
def test_a_listing_leaving_the_site_is_enqueued_for_delisting(app, change):
    channel = postmart()
    shop = make_shop()
    services.opt_in(shop, channel)
    product = listing(shop)
    services.enable_channel(channel, map_rest="pm-1")
    db.session.commit()
    db.session.query(OutboxMessage).delete()
    db.session.commit()

    if change == "hide":
        catalog.hide_product(product, reason="Báo cáo")
    elif change == "suspend":
        shops.suspend_shop(product.shop, reason="Vi phạm")
    else:
        catalog.delete_product(product)
    db.session.commit()

    assert sync_keys() == [f"{channel.id}:{product.id}"]


def test_nothing_is_enqueued_for_a_disabled_channel(app):
    channel = postmart()
    shop = make_shop()
    services.opt_in(shop, channel)
    product = listing(shop)

    catalog.set_price_and_stock(product, price_vnd=120_000, stock=2)
    db.session.commit()

    assert sync_keys() == []


def test_the_shell_adds_enables_and_opts_in_without_printing_the_secret(app, monkeypatch):
    monkeypatch.setenv("POSTMART_KEY", SECRET)
    runner = app.test_cli_runner()
    shop = make_shop()
    listing(shop, category=leaf_category("kho-ca"))

    added = runner.invoke(args=["sync", "channel", "add", "postmart", "--type", "postmart",
                                "--base-url", "http://127.0.0.1:8081", "--rate", "20",
                                "--secret-env", "POSTMART_KEY"])  # fmt: skip
    opted = runner.invoke(args=["sync", "optin", "postmart", "--all-shops"])
    refused = runner.invoke(args=["sync", "channel", "enable", "postmart"])
    enabled = runner.invoke(args=["sync", "channel", "enable", "postmart", "--map-rest", "pm-1"])

    assert added.exit_code == 0, added.output
    assert opted.exit_code == 0 and "1 shops opted" in opted.output
    assert refused.exit_code == 1 and "Khô cá" in refused.output
    assert enabled.exit_code == 0 and "1 listings queued" in enabled.output
    for result in (added, opted, refused, enabled):
        assert SECRET not in result.output
    channel = db.session.scalar(select(Channel))
    assert (channel.requests_per_second, channel.enabled) == (20.0, True)
    assert secrets.unseal(channel.credentials_encrypted) == SECRET


def test_in_production_a_connector_refuses_a_name_that_resolves_to_a_private_address(app):
    """A public-looking name may point at an internal service (or be re-pointed later):
    each request checks what the name resolves to first, and sends nothing if not public."""
    access = Access(base_url="https://localhost:9", credentials=SECRET, production=True)
    with pytest.raises(Unavailable, match="not public"):
        connector_for("postmart", access).get("cm-1")
