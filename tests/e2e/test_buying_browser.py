"""Buying in the browser, on a 360 px phone screen: a visitor's cart from two shops kept
through log-in, checked out cash on delivery and shipped by both sellers; and a card
payment through the fake Stripe, shown paid only once its webhook came.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders.models import Order, PaymentStatus
from tests.e2e.test_moderation_browser import fits_the_screen, log_in
from tests.factories import DEFAULT_PASSWORD, make_image, make_product, make_shop, make_user
from tests.payments.conftest import stripe_test_config
from tests.payments.fake_stripe import WEBHOOK_SECRET, FakeStripe

# The buying strings may not be translated yet: accept the Vietnamese or the English.
ADD_TO_CART = re.compile(r"Thêm vào giỏ|Add to cart", re.IGNORECASE)
CHECK_OUT = re.compile(r"Thanh toán|Đặt hàng|Check out", re.IGNORECASE)
PLACE_ORDER = re.compile(r"Đặt hàng|Place order", re.IGNORECASE)
CONFIRM = re.compile(r"Xác nhận|Confirm the order", re.IGNORECASE)
MARK_SHIPPED = re.compile(r"Đã gửi|Giao cho|Mark shipped", re.IGNORECASE)
CARRIER = re.compile(r"Đơn vị vận chuyển|Hãng vận chuyển|Carrier", re.IGNORECASE)
TRACKING = re.compile(r"Mã vận đơn|Tracking number", re.IGNORECASE)
SHIPPED = re.compile(r"Đã gửi|Đang giao|Shipped", re.IGNORECASE)
STREET = re.compile(r"Số nhà, đường|House number, street", re.IGNORECASE)
PROVINCE = re.compile(r"Tỉnh / thành phố|Province / city", re.IGNORECASE)
COMMUNE = re.compile(r"Xã / phường|Commune / ward", re.IGNORECASE)
REMOVE = re.compile(r"Xóa khỏi giỏ|Bỏ khỏi giỏ|Remove from cart", re.IGNORECASE)
PHONE = re.compile(r"Số điện thoại|Phone number", re.IGNORECASE)


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """The fake Stripe API; its ``webhook_url`` is set once the live server has a port."""
    with FakeStripe(webhook_secret=WEBHOOK_SECRET) as fake:
        yield fake


@pytest.fixture
def app_config(tmp_path, database_url, fake_stripe):
    return stripe_test_config(tmp_path, database_url, fake_stripe)


def fill_the_address(page: Page) -> None:
    """Fill the checkout's address, choosing a province other than the default one: the
    commune list must follow it (static/js/places.js)."""
    page.get_by_label(PHONE).fill("0987 654 321")
    page.get_by_label(STREET).fill("12 Lý Thường Kiệt")
    page.get_by_label(PROVINCE).select_option(label="Thành phố Cần Thơ")
    # With the script on, the button that refreshes the communes without it is hidden.
    expect(page.locator("button[name='refresh_places']")).to_be_hidden()
    commune = page.get_by_label(COMMUNE)
    expect(commune.locator("option", has_text="Phường Cái Khế")).to_have_count(1)
    commune.select_option(label="Phường Cái Khế")


def ship_as_seller(browser: Browser, base: str, email: str, tracking: str) -> None:
    """The seller, in a browser of their own, confirms their one order and ships it."""
    context = browser.new_context(viewport={"width": 360, "height": 760}, locale="vi-VN")
    context.set_default_timeout(10_000)
    seller = context.new_page()
    log_in(seller, base, email)
    seller.goto(f"{base}/seller/orders")
    rows = seller.locator(".order-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    seller.locator("form[action$='/confirm']").get_by_role("button", name=CONFIRM).click()
    expect(seller.locator(".order-summary .status")).to_have_class(re.compile("status-confirmed"))
    ship = seller.locator("form[action$='/ship']")
    ship.get_by_label(CARRIER).fill("Viettel Post")
    ship.get_by_label(TRACKING).fill(tracking)
    ship.get_by_role("button", name=MARK_SHIPPED).click()
    expect(seller.locator(".order-summary .status")).to_have_class(re.compile("status-shipped"))
    expect(seller.locator(".order-summary")).to_contain_text(tracking)
    context.close()


def test_a_visitors_cart_from_two_shops_checked_out_cash_and_shipped_by_both(
    page: Page, browser: Browser, live_server, screenshot_dir
):
    base = live_server
    fish = make_product(
        shop=make_shop(name="Khô Cá Út Hiền", owner=make_user(email="ut.hien@example.com")),
        name="Khô cá lóc đồng 1 nắng", price_vnd=450_000, stock=10, images=[make_image()],
    )  # fmt: skip
    honey = make_product(
        shop=make_shop(name="Mật Ong Rừng U Minh", owner=make_user(email="mat.ong@example.com")),
        name="Mật ong rừng U Minh", price_vnd=250_000, stock=5, unit="chai",
        images=[make_image((230, 180, 30))],
    )  # fmt: skip
    make_user(email="binh@example.com", full_name="Trần Văn Bình")

    # A visitor adds one product from its card on the home page, the other from its page.
    page.goto(base)
    page.locator(".product-card", has_text=fish.name).get_by_role(
        "button", name=ADD_TO_CART
    ).first.click()
    expect(page.locator(".cart-count")).to_have_text("1")
    page.locator(".product-card", has_text=honey.name).first.get_by_role("link").first.click()
    page.locator("form.add-to-cart").get_by_role("button", name=ADD_TO_CART).click()
    expect(page.locator(".cart-count")).to_have_text("2")
    page.goto(f"{base}/cart")
    expect(page.locator(".cart-shop")).to_have_count(2)

    # Checking out asks them to log in; the cart is still theirs afterwards.
    page.locator(".cart-total").get_by_role("link", name=CHECK_OUT).click()
    expect(page).to_have_url(re.compile(r"/account/login"))
    page.get_by_label("Email").fill("binh@example.com")
    page.get_by_label("Mật khẩu", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    page.goto(f"{base}/cart")
    for shop, product in (("Khô Cá Út Hiền", fish), ("Mật Ong Rừng U Minh", honey)):
        group = page.locator(".cart-shop", has_text=shop)
        expect(group.locator(".cart-line")).to_have_count(1)
        expect(group.locator(".cart-line")).to_contain_text(product.name)
        # Its own label, not the photo form's "Remove" (translated "Xóa ảnh", delete photo).
        expect(group.get_by_role("button", name=REMOVE)).to_have_count(1)
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "cart-360.png", full_page=True)

    # Cash on delivery, to a commune of Cần Thơ.
    page.locator(".cart-total").get_by_role("link", name=CHECK_OUT).click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    expect(page.locator(".checkout-shop")).to_have_count(2)
    fill_the_address(page)
    page.locator("input[name='payment_method'][value='cod']").check()
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "checkout-360.png", full_page=True)
    page.locator("form.checkout-form").get_by_role("button", name=PLACE_ORDER).click()

    # One order per shop.
    expect(page).to_have_url(re.compile(r"/account/orders"))
    rows = page.locator(".order-row")
    expect(rows).to_have_count(2)
    expect(rows.locator(".status-placed")).to_have_count(2)

    # Each seller confirms and ships theirs.
    ship_as_seller(browser, base, "ut.hien@example.com", "VTP000111222")
    ship_as_seller(browser, base, "mat.ong@example.com", "VTP000333444")

    # The shopper sees both shipped, with the tracking number on the order page.
    page.goto(f"{base}/account/orders")
    expect(rows.locator(".status-shipped")).to_have_count(2)
    expect(rows.locator(".status-shipped").first).to_have_text(SHIPPED)
    page.locator(".order-row", has_text="Mật Ong Rừng U Minh").get_by_role("link").click()
    summary = page.locator(".order-summary")
    expect(summary.locator(".status")).to_have_class(re.compile("status-shipped"))
    expect(summary).to_contain_text("VTP000333444")
    expect(summary).to_contain_text("Phường Cái Khế")
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "order-360.png", full_page=True)


def test_a_card_payment_through_stripe_shows_paid_only_after_the_webhook(
    app, page: Page, live_server, fake_stripe: FakeStripe, monkeypatch, screenshot_dir
):
    base = live_server
    fake_stripe.webhook_url = f"{base}/payments/stripe/webhook"
    product = make_product(
        shop=make_shop(name="Tôm Khô Rạch Gốc", owner=make_user(email="rach.goc@example.com")),
        name="Tôm khô Rạch Gốc", price_vnd=150_000, stock=5, images=[make_image()],
    )  # fmt: skip
    make_user(email="lan@example.com", full_name="Lê Thị Lan")

    # Hold the fake's webhook until the test lets it go, to see the page before and after.
    release, deliveries = threading.Event(), []
    deliver = fake_stripe.deliver

    def held(*args, **kwargs):
        def later():
            release.wait(15)
            deliveries.append(deliver(*args, **kwargs))

        threading.Thread(target=later, daemon=True).start()

    monkeypatch.setattr(fake_stripe, "deliver", held)

    log_in(page, base, "lan@example.com")
    expect(page.locator(".account-menu summary")).to_have_text("Lan")
    page.goto(base)
    page.locator(".product-card", has_text=product.name).get_by_role(
        "button", name=ADD_TO_CART
    ).first.click()
    expect(page.locator(".cart-count")).to_have_text("1")
    page.goto(f"{base}/checkout")
    fill_the_address(page)
    page.locator("input[name='payment_method'][value='card']").check()
    page.locator("form.checkout-form").get_by_role("button", name=PLACE_ORDER).click()

    # On the fake's hosted page: the amount in VND with the shipping, then Pay.
    expect(page).to_have_url(re.compile(re.escape(fake_stripe.base_url) + r"/pay/cs_"))
    expect(page.locator("#total")).to_have_text("180.000 ₫")  # 30 000 đ of shipping
    page.locator("#pay").click()

    # Back on the return page: still waiting, as no webhook came yet.
    expect(page).to_have_url(re.compile(r"/payments/stripe/return/\d+"))
    expect(page.locator("[data-payment-state]")).to_have_attribute("data-payment-state", "waiting")
    db.session.rollback()
    assert db.session.scalar(select(Order.payment_status)) == PaymentStatus.UNPAID

    # The webhook comes; the page, refreshing itself, shows the order paid.
    release.set()
    expect(page.locator("[data-payment-state]")).to_have_attribute(
        "data-payment-state", "paid", timeout=10_000
    )
    assert [(d.event_type, d.status) for d in deliveries] == [("checkout.session.completed", 200)]
    page.locator(".order-row").get_by_role("link").click()
    expect(page.locator("[data-payment-status]")).to_have_attribute("data-payment-status", "paid")
    expect(page.locator(".order-summary .status")).to_have_class(re.compile("status-placed"))
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "order-card-360.png", full_page=True)
