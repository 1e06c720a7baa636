"""How Vietnamese text becomes search terms.

Text is normalised to NFC first (Whoosh's tokenizer would split decomposed text at its
combining marks), cut into words, then either folded (case and diacritics gone, đ/Đ/Ð → d:
what shoppers type on phones) or only lower-cased (to rank exact-diacritic matches first).
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, Token
from whoosh.analysis.analyzers import CompositeAnalyzer

from marketplace.core.text import fold, normalise

WORD_PATTERN = r"\w+"


class FoldFilter(Filter):
    """Fold each token with ``core.text.fold`` (the one definition of folding)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            token.text = fold(token.text)
            yield token


def folded_analyzer() -> CompositeAnalyzer:
    return RegexTokenizer(WORD_PATTERN) | FoldFilter()


def exact_analyzer() -> CompositeAnalyzer:
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter()


_FOLDED = folded_analyzer()
_EXACT = exact_analyzer()


def folded_terms(text: str) -> list[str]:
    return [token.text for token in _FOLDED(normalise(text))]


def exact_terms(text: str) -> list[str]:
    return [token.text for token in _EXACT(normalise(text))]


def has_diacritics(text: str) -> bool:
    """Return True when ``text`` carries Vietnamese marks (then exact matches rank first)."""
    lowered = normalise(text).lower()
    return fold(lowered) != lowered
