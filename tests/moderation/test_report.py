"""The provincial report: figures by state, OCOP share, by month (Vietnam's months) and
by commune, as a page with a chart and as CSV."""

import csv
from datetime import UTC, datetime, timedelta

from marketplace.accounts.models import Role
from marketplace.catalog.models import ProductStatus
from marketplace.core.models import VIETNAM, local_today
from marketplace.moderation import figures
from marketplace.shops import places
from marketplace.shops.models import ShopStatus
from tests.factories import CA_MAU, log_in, make_product, make_shop, make_user


def test_the_report_counts_by_state_month_and_commune(app):
    communes = places.communes(CA_MAU)[:2]
    first = make_shop(name="HTX Mật Ong U Minh", commune_code=communes[0].code)
    second = make_shop(name="Khô Cá Sông Đốc", commune_code=communes[1].code)
    make_shop(status=ShopStatus.PENDING, commune_code=communes[1].code)
    make_product(
        shop=first,
        ocop_stars=4,
        ocop_certificate_no="123/QĐ-UBND",
        ocop_year=2024,
        ocop_level="province",
    )
    make_product(shop=first)
    make_product(shop=second)
    make_product(shop=second, status=ProductStatus.PENDING)
    # Midnight starting this month in Vietnam is 17:00 UTC the day before: a member who
    # joins an hour after it joined this month, one who joined an hour before, the last.
    today = local_today()
    month_start = datetime(today.year, today.month, 1, tzinfo=VIETNAM).astimezone(UTC)
    make_user(created_at=month_start + timedelta(hours=1))
    make_user(created_at=month_start - timedelta(hours=1))

    report = figures.build_report(today)

    assert report.shops == {"approved": 2, "pending": 1}
    assert report.listings == {"published": 3, "pending": 1}
    assert (report.ocop_listings, round(report.ocop_share, 3)) == (1, 0.333)
    assert sum(report.members.values()) == 5
    assert len(report.months) == 12 and report.months[-1] == f"{today:%Y-%m}"
    # Three shop owners and one member this month; one member the month before.
    assert report.signups[-1] == 4 and report.signups[-2] == 1
    assert report.new_listings[-1] == 4
    by_commune = {row.name: (row.shops, row.listings) for row in report.communes}
    assert by_commune == {communes[0].name: (1, 2), communes[1].name: (1, 1)}


def test_admins_see_the_report_with_its_chart_and_download_it(app):
    make_product(
        ocop_stars=5, ocop_certificate_no="45/QĐ-UBND", ocop_year=2023, ocop_level="province"
    )
    client = log_in(app.test_client(), make_user(role=Role.ADMIN))

    page = client.get("/admin/report").get_data(as_text=True)
    download = client.get("/admin/report.csv")

    assert "<svg" in page and "<rect" in page and "Báo cáo của tỉnh" in page
    assert "100 %" in page
    rows = list(csv.reader(download.get_data().decode("utf-8-sig").splitlines()))
    assert download.mimetype == "text/csv"
    assert rows[0] == ["section", "item", "value", "value_2"]
    assert ["ocop", "published_ocop_listings", "1", ""] in rows
    assert any(row[0] == "by_commune" and row[2] == "1" for row in rows)
    assert sum(row[0] == "by_month" for row in rows) == 12
