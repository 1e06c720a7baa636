"""Staged revisions: an edit to something live that waits for an admin's review.

A listing's content and a shop's name and legal details change this way: the edit is stored
as a revision row while the live version stays, and an admin approves or rejects it. A
revision model has ``status`` (``RevisionStatus``), ``reason`` and ``decided_at`` columns,
and a partial unique index lets at most one revision wait per thing it edits. Each domain
keeps what a revision contains and how it applies; the steps below are the same for all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from marketplace.core.errors import DomainError
from marketplace.core.models import RevisionStatus, utcnow
from marketplace.core.states import InvalidTransition, ReasonRequired, Transitions

# A waiting revision is approved, rejected (with a reason the author reads), or replaced
# by a newer one from its author (superseded); a decided revision stays as it is.
ALLOWED: dict[RevisionStatus, frozenset[RevisionStatus]] = {
    RevisionStatus.PENDING: frozenset(
        {RevisionStatus.APPROVED, RevisionStatus.REJECTED, RevisionStatus.SUPERSEDED}
    ),
    RevisionStatus.APPROVED: frozenset(),
    RevisionStatus.REJECTED: frozenset(),
    RevisionStatus.SUPERSEDED: frozenset(),
}
NEEDS_REASON = frozenset({RevisionStatus.REJECTED})


class RevisionConflict(DomainError):
    """Another save staged a revision of the same thing at the same moment."""


class Revision(Protocol):
    status: Any
    reason: Any
    decided_at: Any


R = TypeVar("R", bound=Revision)


def rules(
    *,
    already_decided: Callable[[], str],
    reason_required: Callable[[], str],
    invalid: type[InvalidTransition] = InvalidTransition,
    missing_reason: type[DomainError] = ReasonRequired,
) -> Transitions[RevisionStatus]:
    """The transition table of revisions, with a domain's messages and exception classes."""
    return Transitions(
        allowed=ALLOWED,
        needs_reason=NEEDS_REASON,
        refused=already_decided,
        reason_required=reason_required,
        invalid=invalid,
        missing_reason=missing_reason,
    )


def pending(session: Session, owner: InstrumentedAttribute[int], owner_id: int | None) -> Any:
    """The revision waiting for the thing ``owner`` (a revision model's foreign key column,
    e.g. ``ProductRevision.product_id``) points at, or None (always None for ``owner_id``
    None: a thing not stored yet has no revision)."""
    if owner_id is None:
        return None
    model = owner.class_
    return session.scalar(
        select(model).where(owner == owner_id, model.status == RevisionStatus.PENDING)
    )


def _record(
    session: Session, revision: Revision, status: RevisionStatus, reason: str | None
) -> None:
    revision.status = status
    if status in NEEDS_REASON:
        revision.reason = reason
    revision.decided_at = utcnow()
    session.flush()


def supersede(session: Session, revision: Revision | None) -> None:
    """Retire a waiting revision that a newer edit replaces or withdraws (None: nothing).

    Flushed at once, so a new revision can be staged after it (one waits at a time).
    """
    if revision is not None:
        _record(session, revision, RevisionStatus.SUPERSEDED, None)


def approve(
    session: Session,
    revision: R,
    rules: Transitions[RevisionStatus],
    apply: Callable[[R], None],
) -> None:
    """Approve a waiting revision: ``apply`` swaps its content into the live thing (and may
    raise to refuse), then the decision is recorded. A decided revision raises
    ``rules.invalid`` before ``apply`` runs."""
    rules.check(revision.status, RevisionStatus.APPROVED)
    apply(revision)
    _record(session, revision, RevisionStatus.APPROVED, None)


def reject(
    session: Session, revision: Revision, rules: Transitions[RevisionStatus], *, reason: str
) -> None:
    """Refuse a waiting revision; the live version stays and the author reads ``reason``
    (stripped, at most 500 characters; an empty one raises ``rules.missing_reason``)."""
    cleaned = rules.check(revision.status, RevisionStatus.REJECTED, reason)
    _record(session, revision, RevisionStatus.REJECTED, cleaned)


def _one_pending_indexes(table: Table) -> list[tuple[str, list[str]]]:
    return [
        (str(index.name), [column.name for column in index.columns])
        for index in table.indexes
        if index.unique
    ]


def _breaks_one_pending(error: IntegrityError, table: Table) -> bool:
    """Return True when ``error`` is a duplicate on one of ``table``'s unique indexes."""
    indexes = _one_pending_indexes(table)
    diag = getattr(error.orig, "diag", None)  # psycopg names the constraint
    if diag is not None:
        return getattr(diag, "constraint_name", None) in {name for name, _ in indexes}
    # SQLite names the columns: "UNIQUE constraint failed: shop_revisions.shop_id".
    message = str(error.orig)
    return any(
        message
        == "UNIQUE constraint failed: " + ", ".join(f"{table.name}.{column}" for column in columns)
        for _, columns in indexes
    )


def stage(
    session: Session,
    revision: R,
    conflict_message: str,
    *,
    error: type[DomainError] = RevisionConflict,
) -> R:
    """Insert ``revision`` as the one waiting for its thing, in a savepoint.

    Supersede any revision waiting first. When another transaction staged one at the same
    moment (the look for a waiting revision could not see it yet), the unique index refuses
    the insert: raise ``error(conflict_message)`` with the session still usable. Any other
    integrity error is raised as it is.
    """
    try:
        with session.begin_nested():
            session.add(revision)
    except IntegrityError as integrity_error:
        if not _breaks_one_pending(integrity_error, type(revision).__table__):
            raise
        raise error(conflict_message) from integrity_error
    return revision
