"""Money is an integer number of đồng: VND has no minor unit."""

from __future__ import annotations

from functools import lru_cache

from babel.numbers import format_currency, format_decimal

# People in Vietnam write 150.000 ₫ whatever language the page is in.
_VND_LOCALE = "vi_VN"


def format_vnd(amount: int | None) -> str:
    """Return ``amount`` as Vietnamese write it: ``150.000 ₫``."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"VND amounts are whole integers, got {amount!r}")
    return _format_vnd(amount)


@lru_cache(maxsize=8192)
def _format_vnd(amount: int) -> str:
    # Babel re-reads its locale data on every call; shop prices repeat (round thousands),
    # so a page of 24 cards formats mostly from this cache.
    return format_currency(amount, "VND", locale=_VND_LOCALE)


def format_vnd_number(amount: int | None) -> str:
    """Return ``amount`` grouped as Vietnamese type it, without the sign: ``150.000``."""
    return "" if amount is None else format_decimal(amount, locale=_VND_LOCALE)
