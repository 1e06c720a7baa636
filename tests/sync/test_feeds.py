"""Pull feeds: Google Merchant product data (RSS 2.0, g: namespace) and CSV."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from marketplace.catalog.models import ProductStatus
from marketplace.extensions import db
from marketplace.sync import services
from tests.factories import make_image, make_product, make_shop

G = "{http://base.google.com/ns/1.0}"


@pytest.fixture
def feed(app):
    channel = services.add_channel(
        code="google", name="Google Merchant", connector="feed", base_url=None, credentials=None
    )
    services.set_rules(channel, markup_percent=10)
    shop = make_shop(name="Mật Ong Hai Lúa")
    services.opt_in(shop, channel)
    db.session.commit()
    services.enable_channel(channel)
    db.session.commit()
    return channel, shop


def test_the_xml_feed_carries_each_public_listing_with_the_channels_price(client, feed):
    _channel, shop = feed
    honey = make_product(shop=shop, name="Mật ong rừng U Minh <500 ml>", price_vnd=150_000,
                         stock=4, gtin="8934567890120", images=[make_image()])  # fmt: skip
    sold_out = make_product(shop=shop, name="Sáp ong", stock=0, images=[make_image((1, 2, 3))])
    make_product(shop=shop, name="Ẩn đi", status=ProductStatus.HIDDEN, images=[make_image()])
    make_product(shop=shop, name="Không ảnh")
    make_product(name="Shop khác", images=[make_image()])

    response = client.get("/feeds/google.xml", buffered=True)

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own output
    items = {item.findtext(f"{G}id"): item for item in root.iter("item")}
    assert set(items) == {f"cm-{honey.id}", f"cm-{sold_out.id}"}
    first = items[f"cm-{honey.id}"]
    assert first.findtext("title") == "Mật ong rừng U Minh <500 ml>"
    assert first.findtext(f"{G}price") == "165000 VND"
    assert first.findtext(f"{G}availability") == "in_stock"
    assert first.findtext(f"{G}gtin") == "8934567890120"
    assert first.findtext(f"{G}brand") == "Mật Ong Hai Lúa"
    assert first.findtext("link").startswith("http://127.0.0.1:5000/san-pham/")
    assert first.findtext(f"{G}image_link").endswith("-1200.webp")
    assert items[f"cm-{sold_out.id}"].findtext(f"{G}availability") == "out_of_stock"
    assert items[f"cm-{sold_out.id}"].findtext(f"{G}identifier_exists") == "no"


def test_the_csv_feed_has_the_same_listings(client, feed):
    _channel, shop = feed
    honey = make_product(shop=shop, name="Mật ong, nguyên chất", price_vnd=150_000,
                         images=[make_image()])  # fmt: skip

    response = client.get("/feeds/google.csv", buffered=True)

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert [(r["id"], r["title"], r["price"]) for r in rows] == [
        (f"cm-{honey.id}", "Mật ong, nguyên chất", "165000 VND")
    ]


def test_a_feed_with_a_key_is_served_only_with_it(client, app, feed):
    _channel, _shop = feed
    services.add_channel(code="google", name="Google", connector="feed", base_url=None,
                         credentials="feed-key-7d1e")  # fmt: skip
    db.session.commit()

    assert client.get("/feeds/google.xml").status_code == 404
    assert client.get("/feeds/google.xml?key=wrong").status_code == 404
    assert client.get("/feeds/google.xml?key=feed-key-7d1e", buffered=True).status_code == 200


def test_only_enabled_feed_channels_have_a_feed(client, app, feed):
    services.add_channel(code="postmart", name="P", connector="postmart",
                         base_url="https://api.postmart.example", credentials=None)  # fmt: skip
    db.session.commit()

    assert client.get("/feeds/postmart.xml").status_code == 404
    assert client.get("/feeds/khong-co.csv").status_code == 404
    assert client.get("/feeds/google.json").status_code == 404


def test_a_description_pasted_with_control_characters_keeps_the_feed_well_formed(client, feed):
    _channel, shop = feed
    make_product(shop=shop, name="Khô cá\x07 lóc\u202e", images=[make_image()],
                 description_md="Ngon\x0b lắm\x1b[31m, giao nhanh\ufffe.")  # fmt: skip

    response = client.get("/feeds/google.xml", buffered=True)

    [item] = ET.fromstring(response.get_data()).iter("item")  # noqa: S314 - our own output
    assert item.findtext("title") == "Khô cá lóc"  # names lose controls and bidi overrides
    assert item.findtext("description") == "Ngon lắm[31m, giao nhanh."
