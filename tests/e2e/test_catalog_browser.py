"""A member opens a shop, lists a product with a photo; a shopper finds it."""

from __future__ import annotations

import re

from PIL import Image as PILImage
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.shops import services as shops
from marketplace.shops.models import Shop
from tests.factories import DEFAULT_PASSWORD, leaf_category, make_user


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_open_shop_list_product_and_a_shopper_finds_it(
    page: Page, live_server, screenshot_dir, tmp_path
):
    base = live_server
    leaf_category("tom-kho")
    seller = make_user(email="ut.hien@example.com", full_name="Nguyễn Thị Út Hiền")
    photo = tmp_path / "tom-kho.jpg"
    PILImage.new("RGB", (1200, 900), (214, 120, 72)).save(photo, "JPEG")

    # The member logs in and opens a shop.
    page.goto(f"{base}/account/login")
    page.get_by_label("Email").fill(seller.email)
    page.get_by_label("Mật khẩu", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{base}/seller")
    page.get_by_role("link", name="Mở gian hàng").click()
    page.get_by_label("Tên gian hàng").fill("Tôm Khô Rạch Gốc Út Hiền")
    page.get_by_label("Số nhà, đường, ấp/khóm").fill("Ấp Rạch Gốc")
    page.get_by_label("Xã / phường").select_option(label="Xã Tân Ân")
    page.get_by_label("Mã số thuế").fill("2000123453")
    page.get_by_label("Tôi đã đọc và đồng ý với quy định của sàn").check()
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "shop-form-360.png", full_page=True)
    page.get_by_role("button", name="Mở gian hàng").click()
    expect(page.locator(".flash")).to_contain_text("đang chờ duyệt")

    # An admin approves the shop (the moderation screens come with their own issue).
    db.session.commit()  # a fresh transaction sees what the browser's requests committed
    shop = db.session.scalar(select(Shop))
    shops.approve_shop(shop)
    db.session.commit()

    # The seller lists a product with a photo.
    page.goto(f"{base}/seller")
    page.get_by_role("link", name="Thêm sản phẩm").click()
    page.get_by_label("Tên sản phẩm").fill("Tôm khô Rạch Gốc loại 1")
    page.get_by_label("Danh mục").select_option(label="Tôm khô")
    page.get_by_label("Giá (₫)", exact=True).fill("1.250.000")
    page.get_by_label("Tồn kho").fill("15")
    page.get_by_label("Mô tả").fill("Tôm đất **Rạch Gốc** phơi nắng tự nhiên, không phẩm màu.")
    page.get_by_label("Thêm ảnh").set_input_files(str(photo))
    page.screenshot(path=screenshot_dir / "product-form-360.png", full_page=True)
    page.get_by_role("button", name="Lưu và gửi duyệt để bán").click()
    expect(page.locator(".flash")).to_contain_text("Đã lưu và gửi duyệt.")
    expect(page.locator(".seller-product")).to_contain_text("Chờ duyệt")
    page.screenshot(path=screenshot_dir / "dashboard-360.png", full_page=True)

    db.session.commit()
    product = db.session.scalar(select(Product))
    catalog.approve_product(product)
    db.session.commit()

    # A shopper finds it on the category page, then opens it.
    shopper = page.context.browser.new_context(viewport={"width": 360, "height": 760})
    visitor = shopper.new_page()
    visitor.goto(f"{base}/")
    visitor.get_by_role("link", name="Khô & đặc sản chế biến").click()
    card = visitor.locator(".product-card", has_text="Tôm khô Rạch Gốc loại 1")
    expect(card).to_contain_text("1.250.000 ₫")
    assert fits_the_screen(visitor)
    visitor.screenshot(path=screenshot_dir / "category-360.png", full_page=True)
    card.get_by_role("link").click()
    expect(visitor).to_have_url(re.compile(rf"/san-pham/{product.id}/tom-kho-rach-goc-loai-1$"))
    expect(visitor.locator("h1")).to_have_text("Tôm khô Rạch Gốc loại 1")
    expect(visitor.locator(".price.large")).to_contain_text("1.250.000 ₫")
    expect(visitor.locator(".shop-card")).to_contain_text("Tôm Khô Rạch Gốc Út Hiền")
    gallery_image = visitor.locator(".gallery img").first
    expect(gallery_image).to_be_visible()
    assert visitor.evaluate("document.querySelector('.gallery img').naturalWidth") > 0
    assert fits_the_screen(visitor)
    visitor.screenshot(path=screenshot_dir / "product-360.png", full_page=True)
    shopper.close()


def test_a_shopper_searches_without_diacritics_and_gets_suggestions(page: Page, live_server):
    from tests.factories import make_product

    make_product(name="Mật ong rừng U Minh nguyên chất", category=leaf_category("mat-ong"))
    make_product(name="Khô cá lóc đồng 1 nắng")

    page.goto(f"{live_server}/")
    box = page.get_by_role("searchbox")
    box.fill("mat o")
    suggestion = page.locator(".suggest-list a", has_text="Mật ong rừng U Minh nguyên chất")
    expect(suggestion).to_be_visible()
    box.fill("mat ong rung")
    box.press("Enter")

    expect(page).to_have_url(re.compile(r"/search\?q=mat\+ong\+rung"))
    expect(page.locator(".product-card")).to_have_count(1)
    expect(page.locator(".product-card")).to_contain_text("Mật ong rừng U Minh nguyên chất")
    assert fits_the_screen(page)
