"""Status transitions: one table per kind of thing, one function that moves along it.

Listings, shops and orders each declare which states may follow which, and which moves
need a reason the other side will read. Every change of state goes through
``Transitions.check``, so a move the table does not allow is refused the same way
everywhere, with a message the user can act on.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from marketplace.core.errors import DomainError

S = TypeVar("S", bound=enum.Enum)
MAX_REASON = 500


class InvalidTransition(DomainError):
    """The current state does not allow the asked-for change."""


class ReasonRequired(DomainError):
    """The change needs a reason, which the other side will read."""


@dataclass(frozen=True)
class Transitions(Generic[S]):
    """A transition table and the rules that go with it.

    ``refused`` and ``reason_required`` return the messages shown when a move is not
    allowed or lacks its reason; they are called at refusal time so the message is in the
    request's language. ``invalid`` and ``missing_reason`` are the exception classes a
    domain raises (subclasses of the two above, so callers may catch either).
    """

    allowed: Mapping[S, frozenset[S]]
    refused: Callable[[], str]
    reason_required: Callable[[], str]
    needs_reason: frozenset[S] = field(default_factory=frozenset)
    invalid: type[InvalidTransition] = InvalidTransition
    missing_reason: type[DomainError] = ReasonRequired

    def can(self, current: S, target: S) -> bool:
        """Return True when the table lets ``current`` become ``target``."""
        return target in self.allowed.get(current, frozenset())

    def check(self, current: S, target: S, reason: str | None = None) -> str | None:
        """Return the cleaned reason for moving to ``target``, or raise.

        The reason is kept (at most 500 characters) only for states that need one.
        """
        if not self.can(current, target):
            raise self.invalid(self.refused())
        cleaned = (reason or "").strip()
        if target in self.needs_reason:
            if not cleaned:
                raise self.missing_reason(self.reason_required())
            return cleaned[:MAX_REASON]
        return None
