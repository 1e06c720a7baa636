"""Vietnamese text helpers: folding for matching, slugs for URLs."""

from __future__ import annotations

import unicodedata

from slugify import slugify as _slugify

# Đ/đ carry no combining mark, so NFD leaves them whole; Ð (U+00D0, Icelandic eth) is a
# look-alike common in Vietnamese web text and must fold the same way.
_D_FOLD = str.maketrans({"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"})


def normalise(text: str) -> str:
    """Return ``text`` in NFC, the form Vietnamese keyboards and databases disagree on."""
    return unicodedata.normalize("NFC", text)


def has_visible_text(text: str) -> bool:
    """Return True when ``text`` shows something: a letter, digit, punctuation or symbol.

    Zero-width characters, combining marks on their own and spaces show nothing, so a
    name made only of them would be an invisible name.
    """
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in text)


# Bidirectional embeddings, overrides and isolates: in a name they make it show as
# something else ("‮gnp.exe" reads "exe.png").
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def clean_line(text: str) -> str:
    """Return one line of text in NFC with runs of white space made single spaces, and
    without control characters (they break XML feeds and terminals) or bidi overrides."""
    line = " ".join(normalise(text).split()).translate(_BIDI_CONTROLS)
    return "".join(ch for ch in line if unicodedata.category(ch) != "Cc")


def fold(text: str) -> str:
    """Return ``text`` lower-cased without diacritics: "Đặc sản Cà Mau" → "dac san ca mau"."""
    lowered = unicodedata.normalize("NFC", text).lower().translate(_D_FOLD)
    decomposed = unicodedata.normalize("NFD", lowered)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def slugify(text: str, max_length: int = 80) -> str:
    """Return a URL slug: "Khô Cá Lóc Út Hiền" → "kho-ca-loc-ut-hien"."""
    return _slugify(fold(text), max_length=max_length, word_boundary=True)
