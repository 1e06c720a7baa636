"""What the marketplace owes shops for card payments: tax withheld, payouts, the CSV."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import LedgerEntry, LedgerKind
from marketplace.shops.models import BusinessType
from tests.conftest import csrf_token_from
from tests.factories import log_in, make_shop, make_user


def _owe(shop, amount: int, reference: str) -> None:
    db.session.add(
        LedgerEntry(shop_id=shop.id, kind=LedgerKind.SALE, amount_vnd=amount, reference=reference)
    )
    db.session.commit()


def test_tax_is_withheld_only_for_household_businesses_and_individuals(app):
    household = make_shop(name="Hộ kinh doanh Út Hiền")
    enterprise = make_shop(
        name="Công ty Mật Ong", business_type=BusinessType.ENTERPRISE, tax_code="0100109106"
    )

    assert ledger.withheld_tax(household, 333_333) == (3_333, 1_667)  # rounded half up
    assert ledger.withheld_tax(enterprise, 333_333) == (0, 0)


def test_an_admin_exports_the_payout_list_and_marks_a_payout(app):
    admin = make_user(role=Role.ADMIN)
    shop = make_shop(name='=HYPERLINK("x")')
    shop.bank_bin, shop.bank_account_number, shop.bank_account_name = (
        "970436",
        "0011001234567",
        "NGUYEN THI HIEN",
    )
    _owe(shop, 500_000, "sale:test:1")
    client = log_in(app.test_client(), admin)

    sheet = client.get("/admin/payouts.csv").get_data(as_text=True)
    page = client.get("/admin/payouts").get_data(as_text=True)
    paid = client.post(
        f"/admin/payouts/{shop.id}",
        data={
            "csrf_token": csrf_token_from(page),
            "amount_vnd": "300.000",
            "bank_reference": "FT123",
        },
    )
    too_much = client.post(
        f"/admin/payouts/{shop.id}",
        data={"csrf_token": csrf_token_from(page), "amount_vnd": "300.000"},
    )

    assert sheet.startswith("\ufeffshop_id,")
    assert "'=HYPERLINK" in sheet and "500000" in sheet
    assert paid.status_code == too_much.status_code == 303
    assert ledger.balance(shop) == 200_000


def test_only_admins_see_payouts_and_only_the_owner_sees_a_balance(app):
    shop = make_shop()
    stranger = log_in(app.test_client(), make_user())

    assert stranger.get("/admin/payouts").status_code == 403
    assert stranger.get("/admin/payouts.csv").status_code == 403
    assert stranger.get("/seller/balance").status_code == 404
    owner = log_in(app.test_client(), shop.owner)
    assert owner.get("/seller/balance").status_code == 200
