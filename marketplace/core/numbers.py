"""Whole numbers and prices typed by people: one parser for forms, query strings and imports.

Vietnamese group thousands with a dot ("150.000"), some with a space ("150 000"), and a
price is always a whole number of đồng. A comma or a decimal part therefore means someone
wrote a price another way ("150.000,00", "1,5"); guessing what they meant is how a price
ends up 100 times too high, so such input is refused with a message saying how to write it.
Only ASCII digits count: ``str.isdigit()`` also accepts "²" and "①", which ``int()`` refuses.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

# The spaces people (and Babel's "150.000 ₫") put between groups or before the sign.
_SPACES = "\u0020\u00a0\u202f\u2009"
_DIGITS = re.compile(r"[0-9]+")
# One to three digits, then groups of exactly three, all with the same separator.
_GROUPED = re.compile(rf"[0-9]{{1,3}}(?P<sep>[.{_SPACES}])[0-9]{{3}}(?:(?P=sep)[0-9]{{3}})*")
_CURRENCY = re.compile(rf"[{_SPACES}]*(?:₫|đ|đồng|vnđ|vnd)$", re.IGNORECASE)
# A bigger number is never a price, a stock or a page; its int() would only be a bigger risk.
MAX_DIGITS = 15


class NumberFormatError(ValueError):
    """The text is not a whole number written one of the accepted ways."""

    def __init__(self, message: object) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def _refuse(money: bool) -> NumberFormatError:
    if money:
        return NumberFormatError(
            _l(
                "Write the price in whole đồng, like 150000, 150.000 or 150 000 "
                "(no commas or decimals)."
            )
        )
    return NumberFormatError(
        _l("Write a whole number, like 1500 or 1.500 (no commas or decimals).")
    )


def parse_whole_number(text: str, *, money: bool = False) -> int:
    """Return the whole number ``text`` says: ``150000``, ``150.000``, ``150 000``.

    With ``money``, a trailing ₫, đ, đồng, VND or vnđ is allowed too. Raises
    ``NumberFormatError`` (its message is safe to show) for anything else: a sign, a comma,
    a decimal part, a group that is not three digits, non-ASCII digits.
    """
    value = unicodedata.normalize("NFC", text).strip(_SPACES + "\t\r\n")
    if money:
        value = _CURRENCY.sub("", value)
    if value.startswith(("-", "−")):
        raise NumberFormatError(_l("The number cannot be negative."))
    if _DIGITS.fullmatch(value):
        digits = value
    elif _GROUPED.fullmatch(value):
        digits = re.sub(r"[^0-9]", "", value)
    else:
        raise _refuse(money)
    # Leading zeros first: int() refuses strings of over 4 300 digits with a ValueError.
    digits = digits.lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        raise NumberFormatError(_l("This number is too large."))
    return int(digits)


def ascii_int(value: object) -> int:
    """``int()`` for WTForms' ``coerce`` and query strings: ASCII digits only, no grouping.

    Raises ValueError (which WTForms turns into "Not a valid choice") for anything else;
    ``int()`` itself takes " 12", "1_2" and "١٢".
    """
    text = str(value)
    if not _DIGITS.fullmatch(text) or len(text) > MAX_DIGITS:
        raise ValueError(f"not a whole number: {text[:20]!r}")
    return int(text)


def parse_optional_number(text: str | None, *, money: bool = False) -> int | None:
    """``parse_whole_number``, where an empty or missing value means None."""
    if text is None or not text.strip(_SPACES + "\t\r\n"):
        return None
    return parse_whole_number(text, money=money)


_DECIMAL = re.compile(r"(?P<whole>[0-9]{1,6})(?:[.,](?P<part>[0-9]{1,2}))?")


def parse_rate(text: str | None) -> float | None:
    """A small number with at most two decimals, such as a rate or a percentage: ``2.5``,
    ``2,5`` or ``12``. Empty means None; anything else raises ``NumberFormatError``."""
    value = unicodedata.normalize("NFC", text or "").strip(_SPACES + "\t\r\n").rstrip("%")
    value = value.strip(_SPACES)
    if not value:
        return None
    match = _DECIMAL.fullmatch(value)
    if match is None:
        raise NumberFormatError(_l("Write a number like 5, 2.5 or 2,5."))
    return float(f"{match['whole']}.{match['part'] or 0}")
