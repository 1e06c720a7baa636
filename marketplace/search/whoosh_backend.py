"""The default search backend: a Whoosh index under SEARCH_INDEX_DIR.

Layout: ``SEARCH_INDEX_DIR/CURRENT`` names the live index folder (``index-<n>``); a rebuild
writes a new folder and swaps the name atomically. Filters, sorts and facet counts read
per-searcher arrays built from the index's columns, never stored fields (FACTS.md: those
reads were the slowest part). User text is never parsed as Whoosh query syntax: queries
are built from analysed words, so wildcards, fields and operators are just words.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.index import Index, LockError
from whoosh.searching import Searcher

from marketplace.search.analysis import (
    exact_analyzer,
    exact_terms,
    folded_analyzer,
    folded_terms,
    has_diacritics,
)
from marketplace.search.backend import (
    FACETS,
    SearchDocument,
    SearchFilters,
    SearchHits,
    Sort,
    register_backend,
)

MAX_QUERY_WORDS = 12
MAX_WORD_LENGTH = 40
PREFIX_EXPANSION_LIMIT = 30
CURRENT = "CURRENT"
COLUMNS = (
    "id",
    "category_id",
    "root_category_id",
    "province_code",
    "shop_id",
    "ocop_stars",
    "price_vnd",
    "in_stock",
    "published_at",
)


def make_schema() -> Schema:
    folded, exact = folded_analyzer(), exact_analyzer()
    return Schema(
        key=ID(unique=True),
        name=TEXT(analyzer=folded, field_boost=4.0, phrase=True, spelling=True),
        name_exact=TEXT(analyzer=exact, field_boost=2.0, phrase=False),
        shop=TEXT(analyzer=folded, field_boost=2.0, phrase=True),
        category=TEXT(analyzer=folded, field_boost=1.5, phrase=False),
        origin=TEXT(analyzer=folded, field_boost=1.5, phrase=True),
        # No positions: descriptions are long and only a fallback (see build_query).
        description=TEXT(analyzer=folded, field_boost=0.6, phrase=False),
        # Unsigned: every value is an id, a code, a count, a price or a timestamp, and an
        # unsigned column keeps the value itself, so the arrays need no translation.
        **{column: NUMERIC(bits=64, signed=False, sortable=True) for column in COLUMNS},
    )


def _fields_of(document: SearchDocument) -> dict[str, object]:
    return {
        "key": str(document.id),
        "name": document.name,
        "name_exact": document.name,
        "shop": document.shop_name,
        "category": document.category_names,
        "origin": document.origin,
        "description": document.description,
        "id": document.id,
        "category_id": document.category_id,
        "root_category_id": document.root_category_id,
        "province_code": document.province_code,
        "shop_id": document.shop_id,
        "ocop_stars": document.ocop_stars,
        "price_vnd": document.price_vnd,
        "in_stock": int(document.in_stock),
        "published_at": document.published_at,
    }


RESULT_CACHE_SIZE = 512


@dataclass
class _Snapshot:
    """One searcher, the column arrays read from it, and the answers it already gave.

    Answers are kept per searcher: a new index generation starts with an empty cache, so
    a cached answer is never older than the index it came from.
    """

    folder: str
    searcher: Searcher
    columns: dict[str, list[int]]
    live: set[int]  # docnums not deleted
    terms: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    answers: OrderedDict[tuple, SearchHits] = field(default_factory=OrderedDict)


class WhooshBackend:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._local = threading.local()

    # -- index folders ---------------------------------------------------------------

    def _current_folder(self) -> Path | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return self.root / name

    def _new_folder(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [
            int(path.name.split("-", 1)[1])
            for path in self.root.glob("index-*")
            if path.name.split("-", 1)[1].isdigit()
        ]
        folder = self.root / f"index-{max(numbers, default=0) + 1}"
        folder.mkdir()
        return folder

    def _point_current_at(self, folder: Path) -> None:
        # Write aside, then rename over: readers see the old name or the new, never half.
        temporary = self.root / f".{CURRENT}.{os.getpid()}"
        temporary.write_text(folder.name, encoding="ascii")
        os.replace(temporary, self.root / CURRENT)

    def open_index(self) -> Index:
        """Open the live index, creating an empty one the first time."""
        folder = self._current_folder()
        if folder is None or not whoosh_index.exists_in(folder):
            folder = self._new_folder()
            whoosh_index.create_in(folder, make_schema())
            self._point_current_at(folder)
        return whoosh_index.open_dir(folder)

    def check(self) -> None:
        folder = self._current_folder()
        if folder is None or not whoosh_index.exists_in(folder):
            raise RuntimeError("no search index")
        whoosh_index.open_dir(folder).doc_count()

    # -- writing ---------------------------------------------------------------------

    def writer(self, index: Index | None = None, timeout: float = 0.0):
        """The index's single writer; raises ``LockError`` when another process has it."""
        return (index or self.open_index()).writer(timeout=timeout)

    def index(self, documents: Iterable[SearchDocument]) -> None:
        with self.writer(timeout=10.0) as writer:
            for document in documents:
                writer.update_document(**_fields_of(document))

    def remove(self, ids: Iterable[int]) -> None:
        with self.writer(timeout=10.0) as writer:
            for product_id in ids:
                writer.delete_by_term("key", str(product_id))

    def apply(self, writer, upserts: Iterable[SearchDocument], removals: Iterable[int]) -> None:
        for product_id in removals:
            writer.delete_by_term("key", str(product_id))
        for document in upserts:
            writer.update_document(**_fields_of(document))

    def rebuild(self, documents: Iterable[SearchDocument]) -> Path:
        """Write a complete new index beside the live one and swap it in; return it."""
        folder = self._new_folder()
        fresh = whoosh_index.create_in(folder, make_schema())
        with fresh.writer(limitmb=256, procs=2, multisegment=True) as writer:
            for document in documents:
                writer.add_document(**_fields_of(document))
        self._point_current_at(folder)
        return folder

    def prune(self) -> None:
        """Delete index folders earlier rebuilds replaced."""
        current = self._current_folder()
        for path in self.root.glob("index-*"):
            if current is not None and path != current:
                # Open searchers keep their files readable (POSIX) until they close.
                shutil.rmtree(path, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------

    def _snapshot(self) -> _Snapshot:
        """This thread's searcher, reopened when the index changed (one per thread)."""
        snapshot: _Snapshot | None = getattr(self._local, "snapshot", None)
        folder = self._current_folder()
        if (
            snapshot is not None
            and folder is not None
            and snapshot.folder == folder.name
            and snapshot.searcher.up_to_date()
        ):
            return snapshot
        if snapshot is not None:
            snapshot.searcher.close()
        searcher = self.open_index().searcher()
        reader = searcher.reader()
        if reader.doc_count_all():
            columns = {name: list(reader.column_reader(name, translate=False)) for name in COLUMNS}
        else:  # an empty index has no column files to read
            columns = {name: [] for name in COLUMNS}
        snapshot = _Snapshot(
            folder=(self._current_folder() or Path("?")).name,
            searcher=searcher,
            columns=columns,
            live=set(reader.all_doc_ids()),
        )
        self._local.snapshot = snapshot
        return snapshot

    def document_ids(self) -> set[int]:
        snapshot = self._snapshot()
        reader = snapshot.searcher.reader()
        ids = snapshot.columns["id"]
        return {ids[docnum] for docnum in reader.all_doc_ids()}

    def query(
        self, text: str, filters: SearchFilters, sort: Sort, page: int, per_page: int
    ) -> SearchHits:
        snapshot = self._snapshot()
        key = (text, filters, sort, page, per_page)
        if (hits := snapshot.answers.get(key)) is not None:
            snapshot.answers.move_to_end(key)
            return hits
        hits = self._answer(snapshot, text, filters, sort, page, per_page)
        snapshot.answers[key] = hits
        if len(snapshot.answers) > RESULT_CACHE_SIZE:
            snapshot.answers.popitem(last=False)
        return hits

    def _answer(
        self,
        snapshot: _Snapshot,
        text: str,
        filters: SearchFilters,
        sort: Sort,
        page: int,
        per_page: int,
    ) -> SearchHits:
        searcher, columns = snapshot.searcher, snapshot.columns
        words = [w[:MAX_WORD_LENGTH] for w in folded_terms(text)][:MAX_QUERY_WORDS]
        if words:
            # The short, telling fields first; descriptions only when they find too little
            # (FACTS.md: most listings' descriptions say "Cà Mau" and "đặc sản").
            fields = COMPACT_FIELDS
            matched = _matching(snapshot, words, fields)
            if len(matched) < DESCRIPTION_FALLBACK_BELOW:
                fields = (*COMPACT_FIELDS, "description")
                matched = _matching(snapshot, words, fields)
            query = build_query(text, words, fields)
        else:
            query = None
            matched = snapshot.live
        allowed = [docnum for docnum in matched if _passes(columns, docnum, filters)]
        facets = {
            name: dict(Counter(columns[name][docnum] for docnum in allowed)) for name in FACETS
        }
        start = (page - 1) * per_page
        if query is not None and sort == Sort.RELEVANCE:
            unfiltered = len(allowed) == len(matched)
            results = searcher.search(
                query, limit=start + per_page, filter=None if unfiltered else set(allowed)
            )
            docnums = [hit.docnum for hit in results][start:]
        else:
            docnums = sorted(allowed, key=_sort_key(columns, sort))[start : start + per_page]
        suggestion = self._suggestion(searcher, words) if words and len(allowed) < 3 else None
        return SearchHits(
            ids=[columns["id"][docnum] for docnum in docnums],
            total=len(allowed),
            facets=facets,
            suggestion=suggestion,
        )

    def _suggestion(self, searcher: Searcher, words: list[str]) -> str | None:
        """A close spelling that exists in product names ("mat ogn" → "mat ong").

        Words of one or two letters are never corrected (every one is an edit away from
        another word, and a wild guess is worse than none).
        """
        corrector = searcher.corrector("name")
        corrected, changed = [], False
        for word in words:
            if searcher.doc_frequency("name", word) or len(word) < 3:
                corrected.append(word)
                continue
            # Two edits: a swapped pair of letters ("ogn" for "ong") is two for Levenshtein,
            # and so is many an unrelated word; prefer the same letters, then the same start.
            options = corrector.suggest(word, limit=5, maxdist=2)
            if not options:
                return None
            options.sort(key=lambda option: (sorted(option) != sorted(word), option[0] != word[0]))
            corrected.append(options[0])
            changed = True
        return " ".join(corrected) if changed else None

    def suggest(self, prefix: str, limit: int) -> list[int]:
        words = folded_terms(prefix)[:MAX_QUERY_WORDS]
        if not words:
            return []
        snapshot = self._snapshot()
        *head, last = words
        expansions = list(snapshot.searcher.reader().expand_prefix("name", last[:MAX_WORD_LENGTH]))[
            :PREFIX_EXPANSION_LIMIT
        ]
        if not expansions:
            return []
        # A listing scores by its best completion, and the word typed whole counts double
        # ("ca" finds "cá" before "cao cấp").
        tail = q.DisjunctionMax(
            [q.Term("name", term, boost=2.0 if term == last else 1.0) for term in expansions]
        )
        query = q.And([*(q.Term("name", word) for word in head), tail]) if head else tail
        results = snapshot.searcher.search(query, limit=limit)
        return [snapshot.columns["id"][hit.docnum] for hit in results]


COMPACT_FIELDS = ("name", "shop", "category", "origin")
DESCRIPTION_FALLBACK_BELOW = 10


def build_query(text: str, words: list[str], fields: tuple[str, ...] = COMPACT_FIELDS) -> q.Query:
    """Every word must match some field; phrases and exact diacritics rank higher."""
    # Each word scores by its best field (plus a little for others): a word repeated in a
    # listing's category and description must not outrank the name that says it exactly.
    required = q.And(
        [
            q.DisjunctionMax([q.Term(field, word) for field in fields], tiebreak=0.1)
            for word in words
        ]
    )
    boosts: list[q.Query] = []
    if len(words) > 1:
        # All the words in the name, in any order ("ca kho" is "khô cá")…
        boosts.append(q.And([q.Term("name", word) for word in words], boost=2.0))
        # …and above all as a phrase.
        boosts += [
            q.Phrase("name", words, boost=3.0),
            q.Phrase("shop", words, boost=1.5),
        ]
    if has_diacritics(text):
        exact = exact_terms(text)[:MAX_QUERY_WORDS]
        boosts.append(q.And([q.Term("name_exact", word) for word in exact], boost=6.0))
    return q.AndMaybe(required, q.Or(boosts)) if boosts else required


def _matching(snapshot: _Snapshot, words: list[str], fields: tuple[str, ...]) -> set[int]:
    """Docnums where every word appears in one of ``fields``, from the posting lists.

    Plain set arithmetic on posting lists is several times faster than walking Whoosh's
    matcher tree for the same AND-of-ORs; scoring happens later, for one page only.
    """
    result: set[int] | None = None
    for word in words:
        found: set[int] = set()
        for name in fields:
            found |= _postings(snapshot, name, word)
        result = found if result is None else result & found
        if not result:
            return set()
    return (result or set()) & snapshot.live


TERM_CACHE_SIZE = 2048


def _postings(snapshot: _Snapshot, name: str, word: str) -> frozenset[int]:
    """The docnums of one term, read a block at a time and kept for this searcher."""
    key = (name, word)
    cached = snapshot.terms.get(key)
    if cached is not None:
        return cached
    ids: list[int] = []
    for subsearcher, offset in snapshot.searcher.leaf_searchers():
        reader = subsearcher.reader()
        if not reader.doc_frequency(name, word):
            continue
        matcher = reader.postings(name, word)
        if not hasattr(matcher, "_read_ids"):  # another codec: the generic, slower way
            ids.extend(docnum + offset for docnum in matcher.all_ids())
            continue
        # Whoosh's generic all_ids() steps one posting at a time in Python; a block's ids
        # are one list, so take them whole.
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            ids.extend(docnum + offset for docnum in matcher._ids[matcher._i :])
            matcher._next_block()
    result = frozenset(ids)
    if len(snapshot.terms) >= TERM_CACHE_SIZE:
        snapshot.terms.clear()
    snapshot.terms[key] = result
    return result


def _passes(columns: dict[str, list[int]], docnum: int, filters: SearchFilters) -> bool:
    if filters.category_ids and columns["category_id"][docnum] not in filters.category_ids:
        return False
    if filters.province_code and columns["province_code"][docnum] != filters.province_code:
        return False
    if filters.shop_id and columns["shop_id"][docnum] != filters.shop_id:
        return False
    if filters.min_ocop_stars and columns["ocop_stars"][docnum] < filters.min_ocop_stars:
        return False
    price = columns["price_vnd"][docnum]
    if filters.min_price_vnd is not None and price < filters.min_price_vnd:
        return False
    if filters.max_price_vnd is not None and price > filters.max_price_vnd:
        return False
    return not (filters.in_stock and not columns["in_stock"][docnum])


def _sort_key(columns: dict[str, list[int]], sort: Sort):
    published, price, ids = columns["published_at"], columns["price_vnd"], columns["id"]
    if sort == Sort.PRICE_ASC:
        return lambda docnum: (price[docnum], -ids[docnum])
    if sort == Sort.PRICE_DESC:
        return lambda docnum: (-price[docnum], -ids[docnum])
    return lambda docnum: (-published[docnum], -ids[docnum])


def _factory(app: Flask) -> WhooshBackend:
    return WhooshBackend(Path(app.config["SEARCH_INDEX_DIR"]))


register_backend("whoosh", _factory)

__all__ = ["LockError", "WhooshBackend", "build_query", "make_schema"]
