import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.shops import places, services
from marketplace.shops.models import BusinessType, Shop, ShopStatus
from marketplace.shops.rules import RULES_VERSION
from tests.factories import make_shop, make_user, shop_details


def test_opening_a_shop_makes_it_pending_and_the_owner_a_seller(app):
    owner = make_user()

    shop = services.open_shop(owner, shop_details(), accepted_rules_version=RULES_VERSION)
    db.session.commit()

    assert shop.status == ShopStatus.PENDING
    assert shop.slug == "kho-ca-loc-ut-hien"
    assert shop.rules_version == RULES_VERSION
    assert shop.rules_accepted_at is not None
    assert shop.phone == "+84912345678"
    assert owner.role == Role.SELLER


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Khô Cá Lóc Út Hiền", "kho-ca-loc-ut-hien"),
        ("Đặc Sản Đất Mũi", "dac-san-dat-mui"),
        ("Ðặc Sản Ðất Mũi", "dac-san-dat-mui"),  # U+00D0
        ("Mật ong", "mat-ong"),
        ("Cá", "gian-hang-ca"),
    ],
)
def test_slugs_come_from_the_vietnamese_name(app, name, slug):
    shop = services.open_shop(
        make_user(), shop_details(name=name), accepted_rules_version=RULES_VERSION
    )

    assert shop.slug == slug


def test_a_taken_slug_gets_a_number(app):
    make_shop(name="Khô Cá Lóc Út Hiền")

    shop = make_shop(name="Khô cá lóc Út Hiền")

    assert shop.slug == "kho-ca-loc-ut-hien-2"


@pytest.mark.parametrize("slug", ["ab", "hoa_sen", "a--b", "-abc", "có-dấu", "a" * 81])
def test_malformed_slugs_are_refused(app, slug):
    with pytest.raises(services.InvalidSlug):
        services.check_slug(slug)


def test_a_chosen_slug_must_be_free_and_not_reserved(app):
    make_shop(name="Mật ong U Minh")

    with pytest.raises(services.SlugTaken):
        services.check_slug("mat-ong-u-minh")
    with pytest.raises(services.SlugTaken):
        services.check_slug("admin")


def test_the_slug_is_editable(app):
    shop = make_shop()

    services.update_shop(shop, shop_details(slug="ut-hien-u-minh"), author=shop.owner)

    assert shop.slug == "ut-hien-u-minh"


def test_rules_must_be_accepted_in_their_current_version(app):
    owner = make_user()

    for version in (None, "2020-01"):
        with pytest.raises(services.RulesNotAccepted):
            services.open_shop(owner, shop_details(), accepted_rules_version=version)
    assert db.session.scalar(select(func.count()).select_from(Shop)) == 0


def test_one_shop_per_member(app):
    shop = make_shop()

    with pytest.raises(services.AlreadyHasShop):
        services.open_shop(
            shop.owner, shop_details(name="Khác"), accepted_rules_version=RULES_VERSION
        )


def test_the_commune_must_belong_to_the_province(app):
    hanoi = next(p for p in places.provinces() if "Hà Nội" in p.name)

    with pytest.raises(services.InvalidAddress):
        services.open_shop(
            make_user(),
            shop_details(province_code=hanoi.code),
            accepted_rules_version=RULES_VERSION,
        )


@pytest.mark.parametrize(
    ("business_type", "tax_code", "id_number", "ok"),
    [
        (BusinessType.ENTERPRISE, "0100109106", None, True),
        (BusinessType.ENTERPRISE, "0100109106-001", None, True),
        (BusinessType.ENTERPRISE, "0100109107", None, False),  # wrong check digit
        (BusinessType.ENTERPRISE, None, "079123456789", False),
        (BusinessType.COOPERATIVE, "0300588569", None, True),
        (BusinessType.HOUSEHOLD, "079123456789", None, True),  # CCCD as tax code since 2025
        (BusinessType.HOUSEHOLD, None, None, False),
        (BusinessType.INDIVIDUAL, None, "079123456789", True),
        (BusinessType.INDIVIDUAL, None, "07912345", False),
        (BusinessType.INDIVIDUAL, "0100109106", None, False),
    ],
)
def test_legal_profile_rules_by_business_type(app, business_type, tax_code, id_number, ok):
    if ok:
        services.check_legal_profile(business_type, tax_code, id_number)
    else:
        with pytest.raises(services.InvalidLegalProfile):
            services.check_legal_profile(business_type, tax_code, id_number)


def test_tax_code_check_digit_matches_real_codes():
    assert services.is_valid_tax_code("0100109106")  # Viettel
    assert services.is_valid_tax_code("0300588569")  # Vinamilk
    assert not services.is_valid_tax_code("0300588568")


def test_states_follow_the_transition_table(app):
    shop = make_shop(status=ShopStatus.PENDING)

    services.reject_shop(shop, reason="Thiếu giấy đăng ký kinh doanh")
    assert (shop.status, shop.status_reason) == (
        ShopStatus.REJECTED,
        "Thiếu giấy đăng ký kinh doanh",
    )
    services.resubmit_shop(shop)
    assert shop.status == ShopStatus.PENDING and shop.status_reason is None
    services.approve_shop(shop, trusted=True)
    assert shop.status == ShopStatus.APPROVED and shop.trusted
    services.suspend_shop(shop, reason="Bán hàng cấm")
    assert shop.status == ShopStatus.SUSPENDED
    services.reinstate_shop(shop)
    assert shop.status == ShopStatus.APPROVED


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (ShopStatus.PENDING, services.suspend_shop),
        (ShopStatus.PENDING, services.reinstate_shop),
        (ShopStatus.APPROVED, services.approve_shop),
        (ShopStatus.APPROVED, services.reject_shop),
        (ShopStatus.REJECTED, services.approve_shop),
        (ShopStatus.SUSPENDED, services.resubmit_shop),
    ],
)
def test_forbidden_transitions_raise(app, start, action):
    shop = make_shop(status=start)
    kwargs = {"reason": "x"} if action in (services.suspend_shop, services.reject_shop) else {}

    with pytest.raises(services.InvalidTransition):
        action(shop, **kwargs)


def test_a_shop_name_that_shows_nothing_is_refused(app):
    with pytest.raises(services.ShopError):
        services.open_shop(
            make_user(), shop_details(name="\u200b \u0301"), accepted_rules_version=RULES_VERSION
        )


def test_rejection_and_suspension_need_a_reason(app):
    shop = make_shop(status=ShopStatus.PENDING)

    with pytest.raises(services.ShopError):
        services.reject_shop(shop, reason="  ")
    assert shop.status == ShopStatus.PENDING


def test_only_the_owner_and_admins_may_see_the_registration_document(app):
    shop = make_shop()
    stranger, admin = make_user(), make_user(role=Role.ADMIN)

    assert services.can_see_registration_document(shop, shop.owner)
    assert services.can_see_registration_document(shop, admin)
    assert not services.can_see_registration_document(shop, stranger)
