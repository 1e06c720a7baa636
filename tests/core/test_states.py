"""The transition helper every domain's states go through (core/states.py)."""

from __future__ import annotations

import enum

import pytest

from marketplace.catalog import services as catalog
from marketplace.catalog.models import ProductStatus
from marketplace.core import states
from marketplace.core.errors import DomainError
from marketplace.core.states import MAX_REASON, InvalidTransition, ReasonRequired, Transitions
from marketplace.shops import services as shops
from marketplace.shops.models import ShopStatus


class Light(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    OFF = "off"


TABLE = {
    Light.GREEN: frozenset({Light.AMBER, Light.OFF}),
    Light.AMBER: frozenset({Light.RED}),
    Light.RED: frozenset({Light.GREEN, Light.OFF}),
    # OFF is missing from the table on purpose: a state without a row allows nothing.
}


def lights(**options) -> Transitions[Light]:
    return Transitions(
        allowed=TABLE,
        refused=lambda: "not from here",
        reason_required=lambda: "say why",
        needs_reason=frozenset({Light.OFF}),
        **options,
    )


class DomainRefused(DomainError):
    pass


class Refused(DomainRefused, InvalidTransition):
    pass


class NoReason(DomainRefused, ReasonRequired):
    pass


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Light.GREEN, Light.AMBER, True),
        (Light.AMBER, Light.RED, True),
        (Light.GREEN, Light.RED, False),
        (Light.GREEN, Light.GREEN, False),  # staying put is not a move the table lists
        (Light.OFF, Light.GREEN, False),
    ],
)
def test_can_follows_the_table(current, target, allowed):
    assert lights().can(current, target) is allowed


def test_a_move_the_table_does_not_allow_is_refused_with_the_message():
    with pytest.raises(InvalidTransition, match="not from here"):
        lights().check(Light.GREEN, Light.RED)


def test_the_refusal_is_checked_before_the_reason():
    with pytest.raises(InvalidTransition):
        lights().check(Light.AMBER, Light.OFF, reason="")


@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
def test_a_move_that_needs_a_reason_refuses_a_missing_or_blank_one(reason):
    with pytest.raises(ReasonRequired, match="say why"):
        lights().check(Light.GREEN, Light.OFF, reason)


def test_the_reason_is_stripped_and_cut_to_its_column():
    assert lights().check(Light.GREEN, Light.OFF, "  power cut \n") == "power cut"
    long = lights().check(Light.RED, Light.OFF, "x" * (MAX_REASON + 20))
    assert long == "x" * MAX_REASON


def test_a_move_that_needs_no_reason_keeps_none_even_when_given_one():
    assert lights().check(Light.GREEN, Light.AMBER) is None
    assert lights().check(Light.GREEN, Light.AMBER, "because") is None


def test_messages_are_made_when_refusing_not_when_the_table_is_built():
    calls = []
    table = Transitions(
        allowed=TABLE,
        refused=lambda: calls.append("refused") or "no",
        reason_required=lambda: calls.append("reason") or "why",
        needs_reason=frozenset({Light.OFF}),
    )
    table.check(Light.GREEN, Light.AMBER)
    assert calls == []
    with pytest.raises(InvalidTransition):
        table.check(Light.GREEN, Light.RED)
    with pytest.raises(ReasonRequired):
        table.check(Light.GREEN, Light.OFF)
    assert calls == ["refused", "reason"]


def test_a_domain_raises_its_own_classes_which_callers_catch_either_way():
    table = lights(invalid=Refused, missing_reason=NoReason)

    with pytest.raises(Refused) as refused:
        table.check(Light.GREEN, Light.RED)
    with pytest.raises(NoReason) as no_reason:
        table.check(Light.GREEN, Light.OFF)

    assert isinstance(refused.value, DomainRefused | states.InvalidTransition)
    assert isinstance(no_reason.value, DomainRefused | states.ReasonRequired)
    assert isinstance(no_reason.value, DomainError)


@pytest.mark.parametrize(
    ("domain", "base"),
    [(catalog, catalog.CatalogError), (shops, shops.ShopError)],
)
def test_listings_and_shops_errors_are_the_core_ones_and_their_domains(domain, base):
    assert issubclass(domain.InvalidTransition, base)
    assert issubclass(domain.InvalidTransition, states.InvalidTransition)
    assert issubclass(domain.ReasonRequired, base)
    assert issubclass(domain.ReasonRequired, states.ReasonRequired)
    for table in (domain.TRANSITIONS, domain.REVISIONS):
        assert table.invalid is domain.InvalidTransition
        assert table.missing_reason is domain.ReasonRequired


def test_every_listing_and_shop_state_has_a_row_in_its_table():
    assert set(catalog.TRANSITIONS.allowed) == set(ProductStatus)
    assert set(shops.TRANSITIONS.allowed) == set(ShopStatus)
    assert catalog.TRANSITIONS.allowed is catalog.ALLOWED
    assert shops.TRANSITIONS.allowed is shops.ALLOWED
