"""The staged-revision steps listings and shops share (core/revisions.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from marketplace.catalog.models import ProductRevision
from marketplace.core import revisions
from marketplace.core.models import RevisionStatus
from marketplace.core.states import InvalidTransition, ReasonRequired
from marketplace.extensions import db
from tests.factories import make_product

RULES = revisions.rules(already_decided=lambda: "decided", reason_required=lambda: "why")


@pytest.fixture
def product(app):
    return make_product()


def staged(product, **content) -> ProductRevision:
    revision = revisions.stage(
        db.session,
        ProductRevision(product=product, author=product.shop.owner, content=content),
        "saved elsewhere",
    )
    db.session.commit()
    return revision


def test_pending_finds_the_waiting_revision_and_none_for_an_unsaved_thing(product):
    assert revisions.pending(db.session, ProductRevision.product_id, product.id) is None
    assert revisions.pending(db.session, ProductRevision.product_id, None) is None

    revision = staged(product, name="B")

    assert revisions.pending(db.session, ProductRevision.product_id, product.id) == revision


def test_supersede_retires_the_waiting_one_so_a_new_one_can_wait(product):
    first = staged(product, name="B")

    revisions.supersede(db.session, first)
    second = staged(product, name="C")
    revisions.supersede(db.session, None)  # nothing waiting: nothing to do

    assert (first.status, first.reason) == (RevisionStatus.SUPERSEDED, None)
    assert first.decided_at is not None
    assert revisions.pending(db.session, ProductRevision.product_id, product.id) == second


def test_a_second_waiting_revision_is_a_clear_error_and_the_session_goes_on(product):
    staged(product, name="B")

    with pytest.raises(revisions.RevisionConflict, match="saved elsewhere"):
        staged(product, name="C")

    # Only the savepoint was rolled back: the transaction is still usable.
    product.stock = 7
    db.session.commit()
    waiting = revisions.pending(db.session, ProductRevision.product_id, product.id)
    assert waiting.content == {"name": "B"}


def test_the_conflict_is_raised_as_the_domains_class(product):
    class Conflict(revisions.RevisionConflict):
        pass

    staged(product, name="B")
    with pytest.raises(Conflict):
        revisions.stage(
            db.session,
            ProductRevision(product=product, author=product.shop.owner, content={}),
            "saved elsewhere",
            error=Conflict,
        )


def test_other_integrity_errors_are_not_called_a_conflict(product):
    orphan = ProductRevision(product_id=product.id, author_id=999_999, content={})

    with pytest.raises(IntegrityError):
        revisions.stage(db.session, orphan, "saved elsewhere")


def test_approve_applies_then_records_the_decision(product):
    revision = staged(product, name="B")
    applied = []

    revisions.approve(db.session, revision, RULES, applied.append)

    assert applied == [revision]
    assert revision.status == RevisionStatus.APPROVED and revision.decided_at is not None


def test_a_refusal_from_apply_leaves_the_revision_waiting(product):
    revision = staged(product, name="B")

    def refuse(_revision):
        raise InvalidTransition("the listing is gone")

    with pytest.raises(InvalidTransition, match="the listing is gone"):
        revisions.approve(db.session, revision, RULES, refuse)
    assert (revision.status, revision.decided_at) == (RevisionStatus.PENDING, None)


def test_reject_keeps_the_reason_stripped_and_needs_one(product):
    revision = staged(product, name="B")

    with pytest.raises(ReasonRequired, match="why"):
        revisions.reject(db.session, revision, RULES, reason="  ")
    revisions.reject(db.session, revision, RULES, reason="  Tên không đúng  " + "x" * 600)

    assert revision.status == RevisionStatus.REJECTED
    assert revision.reason.startswith("Tên không đúng  x") and len(revision.reason) == 500


@pytest.mark.parametrize("decided", [RevisionStatus.APPROVED, RevisionStatus.SUPERSEDED])
def test_a_decided_revision_cannot_be_decided_again(product, decided):
    revision = staged(product, name="B")
    revision.status = decided
    applied = []

    with pytest.raises(InvalidTransition, match="decided"):
        revisions.approve(db.session, revision, RULES, applied.append)
    with pytest.raises(InvalidTransition, match="decided"):
        revisions.reject(db.session, revision, RULES, reason="late")
    assert applied == []
