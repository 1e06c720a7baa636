"""A listing refused with a reason, fixed by its seller, approved, then found by a shopper."""

from __future__ import annotations

import re

from PIL import Image as PILImage
from playwright.sync_api import Page, expect

from marketplace.accounts.models import Role
from tests.factories import DEFAULT_PASSWORD, leaf_category, make_shop, make_user


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_refused_fixed_resubmitted_approved_and_found(
    page: Page, browser, live_server, screenshot_dir, tmp_path
):
    base = live_server
    leaf_category("kho-ca")
    shop = make_shop(name="Khô Cá Bà Năm U Minh", owner=make_user(email="ba.nam@example.com"))
    make_user(email="kiem.duyet@camau.gov.vn", full_name="Trần Văn Kiểm", role=Role.ADMIN)
    photo = tmp_path / "kho-ca-sac.jpg"
    PILImage.new("RGB", (1000, 800), (190, 140, 60)).save(photo, "JPEG")

    # The seller lists a product and sends it for review.
    log_in(page, base, shop.owner.email)
    page.goto(f"{base}/seller")
    page.get_by_role("link", name="Thêm sản phẩm").click()
    page.get_by_label("Tên sản phẩm").fill("Khô cá sặc bổi U Minh")
    page.get_by_label("Danh mục").select_option(label="Khô cá")
    page.get_by_label("Giá (₫)", exact=True).fill("320.000")
    page.get_by_label("Tồn kho").fill("30")
    page.get_by_label("Mô tả").fill("Cá sặc bổi phơi khô.")
    page.get_by_label("Thêm ảnh").set_input_files(str(photo))
    page.get_by_role("button", name="Lưu và gửi duyệt để bán").click()
    expect(page.locator(".seller-product")).to_contain_text("Chờ duyệt")

    # An admin refuses it with a reason from the list and words for the seller.
    admin_context = browser.new_context(viewport={"width": 360, "height": 760})
    admin = admin_context.new_page()
    log_in(admin, base, "kiem.duyet@camau.gov.vn")
    admin.get_by_text("Kiểm").click()  # the account menu
    admin.get_by_role("link", name="Trang quản trị").click()
    admin.get_by_role("link", name="Sản phẩm chờ duyệt").first.click()
    admin.get_by_role("link", name="Khô cá sặc bổi U Minh").click()
    expect(admin.locator(".admin-pictures img")).to_have_count(1)
    admin.get_by_label("Lý do từ chối").select_option(label="Mô tả thiếu, sai hoặc gây hiểu lầm")
    admin.get_by_label("Giải thích thêm cho người bán").fill("Ghi rõ trọng lượng gói.")
    assert fits_the_screen(admin)
    admin.screenshot(path=screenshot_dir / "admin-listing-360.png", full_page=True)
    admin.get_by_role("button", name="Từ chối").click()
    expect(admin.locator(".flash")).to_contain_text("Đã từ chối")

    # The seller reads why, fixes the description and sends it again.
    page.goto(f"{base}/seller")
    expect(page.locator(".seller-product .reason")).to_contain_text("Ghi rõ trọng lượng gói.")
    page.get_by_role("link", name="Khô cá sặc bổi U Minh").first.click()
    page.get_by_label("Mô tả").fill("Cá sặc bổi phơi khô, gói 500 g.")
    page.get_by_role("button", name="Lưu và gửi duyệt để bán").click()
    expect(page.locator(".seller-product")).to_contain_text("Chờ duyệt")

    # The admin finds it back in the queue and approves it.
    admin.goto(f"{base}/admin/products")
    admin.get_by_role("link", name="Khô cá sặc bổi U Minh").click()
    expect(admin.locator(".description")).to_contain_text("gói 500 g")
    admin.get_by_role("button", name="Duyệt", exact=True).click()
    expect(admin.locator(".flash")).to_contain_text("Đã duyệt")
    admin_context.close()

    # A shopper finds it by searching without diacritics.
    shopper_context = browser.new_context(viewport={"width": 360, "height": 760})
    shopper = shopper_context.new_page()
    shopper.goto(f"{base}/")
    shopper.get_by_role("searchbox").fill("kho ca sac boi")
    shopper.get_by_role("searchbox").press("Enter")
    expect(shopper).to_have_url(re.compile(r"/search\?q=kho\+ca\+sac\+boi"))
    expect(shopper.locator(".product-card").first).to_contain_text("Khô cá sặc bổi U Minh")
    shopper_context.close()
