"""The Vietnamese catalog covers every UI string, and the compiled catalog matches it."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "marketplace" / "translations" / "vi" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
SOURCES = [("marketplace", [("**.py", "python")]), ("templates", [("**.html", "jinja2")])]


def _extracted_ids() -> set[str]:
    ids: set[str] = set()
    for folder, methods in SOURCES:
        for _filename, _line, msgid, _comments, _context in extract_from_dir(
            ROOT / folder, methods, keywords=KEYWORDS
        ):
            ids.add(msgid if isinstance(msgid, str) else msgid[0])
    return ids


def _po():
    with (CATALOG_DIR / "messages.po").open("rb") as handle:
        return read_po(handle, locale="vi")


def test_every_ui_string_has_a_vietnamese_translation():
    catalog = _po()
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id
        and any(m.string if isinstance(m.string, tuple) else [m.string])
        and "fuzzy" not in m.flags
    }

    missing = sorted(_extracted_ids() - translated)

    assert missing == [], "run `make translations` and translate tools/vi.json"


def test_compiled_catalog_matches_the_po_file():
    with (CATALOG_DIR / "messages.mo").open("rb") as handle:
        compiled = read_mo(io.BytesIO(handle.read()))
    source = {_hashable(m.id): _hashable(m.string) for m in _po() if m.id and m.string}

    assert {_hashable(m.id): _hashable(m.string) for m in compiled if m.id} == source


def _hashable(value: str | tuple | list) -> str | tuple:
    # Plural messages carry tuples (the .po reader) or lists (the .mo reader).
    return value if isinstance(value, str) else tuple(value)


def test_translations_keep_their_placeholders():
    for message in _po():
        if not message.id or not message.string:
            continue
        for placeholder in ("%(n)d", "%(name)s", "%(email)s", "%(site)s", "%(link)s"):
            assert (placeholder in message.id) == (placeholder in message.string), message.id
