"""A member registers, logs out, logs in and changes the password, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PASSWORD = "mat-khau-an-toan-2026"
NEW_PASSWORD = "mat-khau-moi-2027"


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_out(page: Page) -> None:
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.locator(".flash")).to_contain_text("Bạn đã đăng xuất.")


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_register_log_out_log_in_and_change_password(page: Page, live_server, screenshot_dir):
    base = live_server
    email = "ut.tran@example.com"

    page.goto(f"{base}/")
    expect(page.locator("h1")).to_contain_text("Đặc sản Cà Mau")
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "home-360.png", full_page=True)

    page.get_by_role("link", name="Đăng ký").click()
    page.get_by_label("Họ và tên").fill("Trần Văn Út")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Số điện thoại").fill("0912 345 678")
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "register-360.png", full_page=True)
    page.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.locator(".flash")).to_contain_text("Chào mừng Trần Văn Út!")
    expect(page.locator("details.menu summary")).to_have_text("Út")

    log_out(page)

    log_in(page, base, email, "sai-mat-khau-roi")
    expect(page.locator(".form-errors")).to_contain_text("Email hoặc mật khẩu không đúng.")
    page.screenshot(path=screenshot_dir / "login-error-360.png", full_page=True)
    log_in(page, base, email, PASSWORD)
    expect(page.locator("details.menu summary")).to_have_text("Út")

    page.goto(f"{base}/account/password")
    page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
    page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page.locator(".flash")).to_contain_text("Mật khẩu của bạn đã được đổi.")
    expect(page).to_have_url(re.compile(r"/account$"))

    log_out(page)
    log_in(page, base, email, PASSWORD)
    expect(page.locator(".form-errors")).to_contain_text("Email hoặc mật khẩu không đúng.")
    log_in(page, base, email, NEW_PASSWORD)
    expect(page.locator("details.menu summary")).to_have_text("Út")
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "account-360.png", full_page=True)


def test_form_errors_show_beside_their_fields(page: Page, live_server):
    page.goto(f"{live_server}/account/register")
    page.get_by_label("Họ và tên").fill("Lê Thị Mai")
    page.get_by_label("Email").fill("khong-phai-email")
    page.get_by_label("Số điện thoại").fill("12345")
    page.get_by_label("Mật khẩu", exact=True).fill("ngan")
    page.get_by_label("Nhập lại mật khẩu").fill("ngan")
    page.get_by_role("button", name="Tạo tài khoản").click()

    expect(page.locator("#email-errors")).to_contain_text("Địa chỉ email không hợp lệ.")
    expect(page.locator("#phone-errors")).to_contain_text("Nhập số điện thoại Việt Nam")
    expect(page.locator("#password-errors")).to_contain_text("ít nhất 10 ký tự")
    expect(page.get_by_label("Họ và tên")).to_have_value("Lê Thị Mai")


def test_english_switch_in_the_footer(page: Page, live_server):
    page.goto(f"{live_server}/account/login")

    page.get_by_role("link", name="English").click()

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account/login"))
