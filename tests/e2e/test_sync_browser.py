"""An admin puts postmart on from the back office; a seller sees listings live there,
keeps one off, and sees why another was not sent: on a 360 px phone screen, in Vietnamese.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.sync.models import ShopChannel
from tests.e2e.test_moderation_browser import fits_the_screen, log_in
from tests.factories import leaf_category, make_image, make_product, make_shop, make_user
from tests.sync.test_worker import SECRET, run_once, state


def test_a_channel_put_on_by_an_admin_and_chosen_by_a_seller(
    app, page: Page, browser, live_server, screenshot_dir, simulator
):
    base, channel_api = live_server, simulator("postmart")
    app.config.update(SYNC_RETRY_BASE_SECONDS=0.01, SYNC_HTTP_TIMEOUT=1.0)
    shop = make_shop(name="Khô Cá Bà Ba Năm Căn", owner=make_user(email="ba.ba@example.com"))
    for name in ("Khô cá kèo Năm Căn", "Tôm khô Rạch Gốc"):
        make_product(shop=shop, name=name, images=[make_image()], weight_grams=500,
                     category=leaf_category("kho-ca"))  # fmt: skip
    light = make_product(shop=shop, name="Bánh phồng tôm", images=[make_image()],
                         category=leaf_category("kho-ca"))  # fmt: skip
    db.session.get(Product, light.id).weight_grams = None  # postmart needs the weight
    db.session.commit()
    make_user(email="quan.tri@camau.gov.vn", full_name="Lê Quản Trị", role=Role.ADMIN)

    # The admin adds the channel, maps the category from postmart's tree and puts it on.
    admin_context = browser.new_context(viewport={"width": 360, "height": 760})
    admin = admin_context.new_page()
    log_in(admin, base, "quan.tri@camau.gov.vn")
    admin.goto(f"{base}/admin/channels/")
    admin.get_by_label("Mã", exact=True).fill("postmart")
    admin.get_by_label("Tên", exact=True).fill("Postmart")
    admin.get_by_label("Địa chỉ API").fill(channel_api)
    admin.get_by_label("Thông tin xác thực").fill(SECRET)
    admin.get_by_label("Số yêu cầu mỗi giây").fill("50")
    admin.get_by_role("button", name="Thêm (chưa bật)").click()
    expect(admin.locator(".flash")).to_contain_text("Đã thêm kênh Postmart")
    admin.get_by_role("button", name="Đưa mọi gian hàng đã duyệt lên kênh này").click()
    admin.get_by_label("Khô cá", exact=True).select_option(label="Thủy hải sản khô (pm-101)")
    admin.get_by_role("button", name="Lưu cách ghép danh mục").click()
    expect(admin.locator("#preview")).to_contain_text("Bánh phồng tôm")  # refused: no weight
    admin.get_by_role("button", name="Bật và gửi 2 sản phẩm").click()
    expect(admin.locator(".flash")).to_contain_text("Đã bật Postmart")
    assert SECRET not in admin.content()
    assert fits_the_screen(admin)
    admin.screenshot(path=screenshot_dir / "admin-channel-360.png", full_page=True)

    run_once(app)
    assert len(state(channel_api)["listings"]) == 2

    # The seller sees both live with their links, and why the third was not sent.
    log_in(page, base, "ba.ba@example.com")
    page.goto(f"{base}/seller")
    kept = page.locator(".seller-product", has_text="Tôm khô Rạch Gốc")
    expect(kept.locator(".on-channels")).to_contain_text("Postmart: Đang hiển thị")
    [held] = [item for item in state(channel_api)["listings"] if item["name"] == "Tôm khô Rạch Gốc"]
    expect(kept.get_by_role("link", name="Đang hiển thị")).to_have_attribute(
        "href", f"{channel_api}/sp/{held['external_id']}"
    )
    not_sent = page.locator(".seller-product", has_text="Bánh phồng tôm")
    expect(not_sent.locator(".on-channels")).to_contain_text("thiếu khối lượng cả bao bì")
    assert fits_the_screen(page)
    page.screenshot(path=screenshot_dir / "seller-channels-360.png", full_page=True)

    # They keep one listing off postmart: it leaves the channel.
    kept.get_by_role("button", name="Không đưa lên sàn này").click()
    expect(page.locator(".flash")).to_contain_text("sẽ không hiển thị trên Postmart")
    run_once(app)
    assert [item["name"] for item in state(channel_api)["listings"]] == ["Khô cá kèo Năm Căn"]
    page.reload()
    kept = page.locator(".seller-product", has_text="Tôm khô Rạch Gốc")
    expect(kept.locator(".on-channels")).to_contain_text("Postmart: Bạn chọn không đưa lên")

    # Leaving the channel asks first: dismissed, nothing changes; confirmed, they leave.
    leave, asked = page.get_by_role("button", name="Ngừng hiển thị"), []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    leave.click()
    page.reload()
    assert asked == ["Gỡ toàn bộ sản phẩm của bạn khỏi Postmart?"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ShopChannel)) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    leave.click()
    expect(page.locator(".flash")).to_contain_text("sẽ được gỡ khỏi Postmart")
    run_once(app)
    assert state(channel_api)["listings"] == []

    # The admin's health table and the provincial report count what is live.
    admin.goto(f"{base}/admin/report")
    expect(admin.locator("section", has_text="Hiển thị trên các sàn toàn quốc")).to_contain_text(
        "Postmart"
    )
    admin_context.close()
