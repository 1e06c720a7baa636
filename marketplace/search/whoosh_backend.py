"""The default search backend: a Whoosh index under SEARCH_INDEX_DIR.

Layout: ``SEARCH_INDEX_DIR/CURRENT`` names the live index folder (``index-<n>``); a rebuild
writes a new folder and swaps the name atomically.

Whoosh stores the index and finds the terms; ranking, filters, sorts and facet counts are
computed here with numpy over the posting lists and columns, read once per searcher and
kept. Whoosh's own matcher tree walks every matching posting in Python, one at a time: on
a catalog where most listings say "Cà Mau" and "đặc sản" that walk was the whole cost
(bench/search.py). Scores are Whoosh's BM25F, per term and field, combined as the query
in ``_rank`` says. User text is never parsed as Whoosh query syntax: queries are lists of
analysed words, so wildcards, fields and operators are just words.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
from flask import Flask
from whoosh import index as whoosh_index
from whoosh.analysis import BiWordFilter
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema
from whoosh.index import Index, LockError
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

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
COMPACT_FIELDS = ("name", "shop", "category", "origin")
DESCRIPTION_FALLBACK_BELOW = 10
PAIR_SEPARATOR = " "


def make_schema() -> Schema:
    folded, exact = folded_analyzer(), exact_analyzer()
    return Schema(
        key=ID(unique=True),
        # No positions anywhere: phrases are looked up as word pairs (name_pairs), which
        # is one posting list per pair instead of a walk over positions.
        name=TEXT(analyzer=folded, field_boost=4.0, phrase=False),
        name_exact=TEXT(analyzer=exact, field_boost=2.0, phrase=False),
        name_pairs=TEXT(analyzer=folded | BiWordFilter(sep=PAIR_SEPARATOR), phrase=False),
        shop=TEXT(analyzer=folded, field_boost=2.0, phrase=False),
        category=TEXT(analyzer=folded, field_boost=1.5, phrase=False),
        origin=TEXT(analyzer=folded, field_boost=1.5, phrase=False),
        description=TEXT(analyzer=folded, field_boost=0.6, phrase=False),
        # Values only, not indexed: filters and sorts read them as arrays, and indexing a
        # number writes several trie terms per value, a third of all postings. Unsigned
        # 64-bit: every value is an id, a code, a count, a price or a timestamp.
        **{column: COLUMN(NumericColumn("Q")) for column in COLUMNS},
    )


def _field_kinds(schema: Schema) -> set[tuple[str, str]]:
    return {(name, type(field).__name__) for name, field in schema.items()}


def _fields_of(document: SearchDocument) -> dict[str, object]:
    return {
        "key": str(document.id),
        "name": document.name,
        "name_exact": document.name,
        "name_pairs": document.name,
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
# Postings kept per searcher, 12 bytes each: about 50 MB at most per process.
TERM_CACHE_POSTINGS = 4_000_000
# BM25F as Whoosh's default weighting has it. Field boosts are already in the stored
# weights (Whoosh multiplies them in at indexing).
K1, B = 1.2, 0.75
_BYTE_TO_LENGTH = np.array([byte_to_length(byte) for byte in range(256)], dtype=np.float32)
_NOWHERE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


@dataclass
class _Snapshot:
    """One searcher, the arrays read from it, and the answers it already gave.

    Everything is kept per searcher: a new index generation starts empty, so nothing kept
    is ever older than the index it came from.
    """

    folder: str
    searcher: Searcher
    size: int  # docnums run from 0 to size - 1, deleted ones included
    columns: dict[str, np.ndarray]
    live: np.ndarray  # bool per docnum: not deleted
    lengths: dict[str, np.ndarray] = field(default_factory=dict)
    terms: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    cached_postings: int = 0
    answers: OrderedDict[tuple, SearchHits] = field(default_factory=OrderedDict)

    def leaves(self) -> list[tuple[IndexReader, int]]:
        return [(sub.reader(), offset) for sub, offset in self.searcher.leaf_searchers()]

    def scores(self, name: str, word: str) -> tuple[np.ndarray, np.ndarray]:
        """The docnums holding ``word`` in field ``name`` and their BM25F scores."""
        key = (name, word)
        cached = self.terms.get(key)
        if cached is None:
            cached = self._score_term(name, word)
            self.cached_postings += len(cached[0])
            if self.cached_postings > TERM_CACHE_POSTINGS:
                self.terms.clear()
                self.cached_postings = len(cached[0])
            self.terms[key] = cached
        return cached

    def dense(self, name: str, word: str) -> np.ndarray:
        """``scores`` spread over every docnum (zero where the word is absent)."""
        docnums, scores = self.scores(name, word)
        dense = np.zeros(self.size, dtype=np.float32)
        dense[docnums] = scores
        return dense

    def _score_term(self, name: str, word: str) -> tuple[np.ndarray, np.ndarray]:
        if not self.searcher.doc_frequency(name, word):
            return _NOWHERE
        docnums, weights = _postings(self.leaves(), name, word)
        lengths = self._lengths(name)[docnums]
        average = self.searcher.avg_field_length(name) or 1.0
        idf = self.searcher.idf(name, word)
        scores = idf * weights * (K1 + 1) / (weights + K1 * (1 - B + B * lengths / average))
        return docnums, scores.astype(np.float32)

    def _lengths(self, name: str) -> np.ndarray:
        if name not in self.lengths:
            self.lengths[name] = np.concatenate(
                [_field_lengths(reader, name) for reader, _offset in self.leaves()]
                or [np.zeros(0, dtype=np.float32)]
            )
        return self.lengths[name]


def _postings(
    leaves: list[tuple[IndexReader, int]], name: str, word: str
) -> tuple[np.ndarray, np.ndarray]:
    """One term's docnums and weights, a block at a time.

    Whoosh's generic walk steps one posting at a time in Python; a block is one pickled
    tuple of delta-coded ids and weights, so it is decoded whole. Other matchers (inlined
    short lists) take the generic way.
    """
    docnum_parts, weight_parts = [], []
    for reader, offset in leaves:
        if not reader.doc_frequency(name, word):
            continue
        matcher = reader.postings(name, word)
        if not hasattr(matcher, "_read_data"):
            ids, weights = [], []
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                matcher.next()
            docnum_parts.append(np.array(ids, dtype=np.int64) + offset)
            weight_parts.append(np.array(weights, dtype=np.float32))
            continue
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            raw_ids, raw_weights = matcher._data[0], matcher._data[1]
            ids = np.asarray(raw_ids, dtype=np.int64)
            if not matcher._byteids:
                ids = np.cumsum(ids)
            docnum_parts.append(ids + offset)
            if raw_weights is None or isinstance(raw_weights, float):
                weight_parts.append(np.full(len(ids), raw_weights or 1.0, dtype=np.float32))
            else:
                weight_parts.append(np.asarray(raw_weights, dtype=np.float32))
            matcher._next_block()
    if not docnum_parts:
        return _NOWHERE
    return np.concatenate(docnum_parts), np.concatenate(weight_parts)


def _column(reader: IndexReader, name: str, column=None) -> np.ndarray:
    """A segment's numeric column as one array, read from its bytes in one go."""
    if column is None:
        values = reader.column_reader(name, translate=False)
    else:  # Whoosh's own per-field length columns are not fields of the schema
        values = reader._perdoc.column_reader(name, column)
    size = reader.doc_count_all()
    if isinstance(values, NumericColumn.Reader):
        raw = values._dbfile.get(values._basepos, values._count * values._fixedlen)
        # Documents past the last written value hold the column's default.
        raw += values._defaultbytes * (size - values._count)
        return np.frombuffer(raw, dtype=">" + values._typecode).astype(np.int64)
    return np.fromiter(values, dtype=np.int64, count=size)  # a segment without the column


def _field_lengths(reader: IndexReader, name: str) -> np.ndarray:
    lengths_name = f"_{name}_len"  # Whoosh's name for a field's length column
    if not reader._perdoc.has_column(lengths_name):
        return np.zeros(reader.doc_count_all(), dtype=np.float32)
    return _BYTE_TO_LENGTH[_column(reader, lengths_name, LENGTHS_COLUMN)]


def _open_snapshot(folder: str, searcher: Searcher) -> _Snapshot:
    size = searcher.reader().doc_count_all()
    live = np.ones(size, dtype=bool)
    if not size:  # an empty index has no column files to read
        columns = {name: np.zeros(0, dtype=np.int64) for name in COLUMNS}
        return _Snapshot(folder=folder, searcher=searcher, size=0, columns=columns, live=live)
    leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
    columns = {
        name: np.concatenate([_column(reader, name) for reader, _offset in leaves])
        for name in COLUMNS
    }
    for reader, offset in leaves:
        if reader.has_deletions():
            live[np.fromiter(reader.deleted_docs_set, dtype=np.int64) + offset] = False
    return _Snapshot(folder=folder, searcher=searcher, size=size, columns=columns, live=live)


OPEN_ATTEMPTS = 5


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

    def _open_live(self) -> Index | None:
        """The live index, or None when there is none (no CURRENT, or it names no index).

        Opening races with the other processes: Whoosh lists the folder for the newest
        table of contents, which a writer committing meanwhile deletes (FileNotFoundError
        under bench/checkout.py's load), and a rebuild's prune deletes the folder CURRENT
        named a moment ago, which must not pass for "no index" (an empty one would then
        replace the live index). Either way: read CURRENT again and open what it names.
        """
        for attempt in range(OPEN_ATTEMPTS):
            folder = self._current_folder()
            try:
                if folder is not None and whoosh_index.exists_in(folder):
                    return whoosh_index.open_dir(folder)
            except FileNotFoundError:
                if attempt + 1 == OPEN_ATTEMPTS:
                    raise
                continue
            if self._current_folder() == folder:
                return None
        raise RuntimeError("the live search index kept changing while being opened")

    def open_index(self) -> Index:
        """Open the live index, creating an empty one the first time."""
        index = self._open_live()
        if index is None:
            folder = self._new_folder()
            whoosh_index.create_in(folder, make_schema())
            self._point_current_at(folder)
            index = whoosh_index.open_dir(folder)
        return index

    def check(self) -> None:
        index = self._open_live()
        if index is None:
            raise RuntimeError("no search index")
        index.doc_count()
        # An index written by an earlier version of this code lacks what queries read.
        if _field_kinds(index.schema) != _field_kinds(make_schema()):
            raise RuntimeError("the search index was built with other fields")

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
        snapshot = _open_snapshot((self._current_folder() or Path("?")).name, searcher)
        self._local.snapshot = snapshot
        return snapshot

    def document_ids(self) -> set[int]:
        snapshot = self._snapshot()
        return set(snapshot.columns["id"][snapshot.live].tolist())

    def query(
        self, text: str, filters: SearchFilters, sort: Sort, page: int, per_page: int
    ) -> SearchHits:
        snapshot = self._snapshot()
        key = (text, filters, sort, page, per_page)
        if (hits := snapshot.answers.get(key)) is not None:
            snapshot.answers.move_to_end(key)
            return hits
        hits = _answer(snapshot, text, filters, sort, page, per_page)
        snapshot.answers[key] = hits
        if len(snapshot.answers) > RESULT_CACHE_SIZE:
            snapshot.answers.popitem(last=False)
        return hits

    def suggest(self, prefix: str, limit: int) -> list[int]:
        words = [word[:MAX_WORD_LENGTH] for word in folded_terms(prefix)][:MAX_QUERY_WORDS]
        if not words:
            return []
        snapshot = self._snapshot()
        *head, last = words
        expansions = list(snapshot.searcher.reader().expand_prefix("name", last))
        if not expansions:
            return []
        # A listing scores by its best completion, and the word typed whole counts double
        # ("ca" finds "cá" before "cao cấp").
        score = np.zeros(snapshot.size, dtype=np.float32)
        for term in expansions[:PREFIX_EXPANSION_LIMIT]:
            np.maximum(
                score, snapshot.dense("name", term) * (2.0 if term == last else 1.0), out=score
            )
        found = (score > 0) & snapshot.live
        for word in head:
            dense = snapshot.dense("name", word)
            found &= dense > 0
            score += dense
        return _top(snapshot, np.flatnonzero(found), score, limit)


def _answer(
    snapshot: _Snapshot, text: str, filters: SearchFilters, sort: Sort, page: int, per_page: int
) -> SearchHits:
    columns = snapshot.columns
    words = [word[:MAX_WORD_LENGTH] for word in folded_terms(text)][:MAX_QUERY_WORDS]
    score: np.ndarray | None = None
    if words:
        # The short, telling fields first; descriptions only when they find too little
        # (FACTS.md: most listings' descriptions say "Cà Mau" and "đặc sản").
        found, score = _rank(snapshot, text, words, COMPACT_FIELDS)
        if np.count_nonzero(found) < DESCRIPTION_FALLBACK_BELOW:
            found, score = _rank(snapshot, text, words, (*COMPACT_FIELDS, "description"))
        matched = np.flatnonzero(found)
    else:
        matched = np.flatnonzero(snapshot.live)
    allowed = matched[_passes(columns, matched, filters)]
    facets = {name: _counts(columns[name][allowed]) for name in FACETS}
    start = (page - 1) * per_page
    if score is not None and sort == Sort.RELEVANCE:
        docnums = _top(snapshot, allowed, score, start + per_page)[start:]
    else:
        docnums = allowed[_sort_order(columns, allowed, sort)[start : start + per_page]]
        docnums = columns["id"][docnums].tolist()
    suggestion = _suggestion(snapshot.searcher, words) if words and len(allowed) < 3 else None
    return SearchHits(ids=docnums, total=len(allowed), facets=facets, suggestion=suggestion)


# A word scores by its best field plus a little of the others: a word repeated in a
# listing's category and description must not outrank the name that says it exactly.
TIEBREAK = 0.1
# Bonuses, as multiples of the words' scores in the name, the shop or the exact name.
ALL_IN_NAME, PHRASE_IN_NAME, ALL_IN_SHOP, EXACT_DIACRITICS = 2.0, 3.0, 1.5, 6.0


def _rank(
    snapshot: _Snapshot, text: str, words: list[str], fields: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Which docnums hold every word in some field, and their scores.

    Every word must match; all the words in the name (in any order: "ca kho" is "khô
    cá"), the words as a phrase in the name, all of them in the shop's name and a query's
    exact diacritics ("cá" before "ca") each add to the score.
    """
    found = snapshot.live.copy()
    score = np.zeros(snapshot.size, dtype=np.float32)
    in_name = {name: np.zeros(snapshot.size, dtype=np.float32) for name in ("name", "shop")}
    all_in = {name: snapshot.live.copy() for name in ("name", "shop")}
    for word in words:
        best = np.zeros(snapshot.size, dtype=np.float32)
        total = np.zeros(snapshot.size, dtype=np.float32)
        for name in fields:
            dense = snapshot.dense(name, word)
            np.maximum(best, dense, out=best)
            total += dense
            if name in in_name:
                in_name[name] += dense
                all_in[name] &= dense > 0
        found &= best > 0
        if not found.any():
            return found, score
        score += best + TIEBREAK * (total - best)
    if len(words) > 1:
        score += np.where(all_in["name"], ALL_IN_NAME * in_name["name"], 0)
        score += np.where(all_in["shop"], ALL_IN_SHOP * in_name["shop"], 0)
        phrase = all_in["name"].copy()
        for first, second in pairwise(words):
            phrase &= snapshot.dense("name_pairs", f"{first}{PAIR_SEPARATOR}{second}") > 0
        score += np.where(phrase, PHRASE_IN_NAME * in_name["name"], 0)
    if has_diacritics(text):
        exact = np.zeros(snapshot.size, dtype=np.float32)
        every = snapshot.live.copy()
        for word in exact_terms(text)[:MAX_QUERY_WORDS]:
            dense = snapshot.dense("name_exact", word[:MAX_WORD_LENGTH])
            exact += dense
            every &= dense > 0
        score += np.where(every, EXACT_DIACRITICS * exact, 0)
    return found, score


def _top(snapshot: _Snapshot, docnums: np.ndarray, score: np.ndarray, count: int) -> list[int]:
    """The ids of the ``count`` best-scoring ``docnums``; ties go to the newer listing."""
    if count <= 0 or not len(docnums):
        return []
    if len(docnums) > count:
        # Keep every docnum scoring at least the count-th best, so ties are broken below.
        threshold = np.partition(score[docnums], len(docnums) - count)[len(docnums) - count]
        docnums = docnums[score[docnums] >= threshold]
    ids = snapshot.columns["id"][docnums]
    order = np.lexsort((-ids, -score[docnums]))[:count]
    return ids[order].tolist()


def _passes(columns: dict[str, np.ndarray], docnums: np.ndarray, filters: SearchFilters):
    """A mask over ``docnums``: which of them every filter lets through."""
    keep = np.ones(len(docnums), dtype=bool)
    if filters.category_ids:
        keep &= np.isin(columns["category_id"][docnums], filters.category_ids)
    if filters.province_code:
        keep &= columns["province_code"][docnums] == filters.province_code
    if filters.shop_id:
        keep &= columns["shop_id"][docnums] == filters.shop_id
    if filters.min_ocop_stars:
        keep &= columns["ocop_stars"][docnums] >= filters.min_ocop_stars
    if filters.min_price_vnd is not None:
        keep &= columns["price_vnd"][docnums] >= filters.min_price_vnd
    if filters.max_price_vnd is not None:
        keep &= columns["price_vnd"][docnums] <= filters.max_price_vnd
    if filters.in_stock:
        keep &= columns["in_stock"][docnums] != 0
    return keep


def _counts(values: np.ndarray) -> dict[int, int]:
    distinct, counts = np.unique(values, return_counts=True)
    return dict(zip(distinct.tolist(), counts.tolist(), strict=True))


def _sort_order(columns: dict[str, np.ndarray], docnums: np.ndarray, sort: Sort) -> np.ndarray:
    """Positions of ``docnums`` in the order ``sort`` asks for; ties go to the newer id."""
    ids = -columns["id"][docnums]
    if sort == Sort.PRICE_ASC:
        return np.lexsort((ids, columns["price_vnd"][docnums]))
    if sort == Sort.PRICE_DESC:
        return np.lexsort((ids, -columns["price_vnd"][docnums]))
    return np.lexsort((ids, -columns["published_at"][docnums]))


def _suggestion(searcher: Searcher, words: list[str]) -> str | None:
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


def _factory(app: Flask) -> WhooshBackend:
    return WhooshBackend(Path(app.config["SEARCH_INDEX_DIR"]))


register_backend("whoosh", _factory)

__all__ = ["LockError", "WhooshBackend", "make_schema"]
