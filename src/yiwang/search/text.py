"""Chinese text → index tokens, the same way on the indexing and the query side.

SQLite's trigram tokenizer misses two-character words (MACHINE.md), so text is
segmented with jieba in search mode and the index only ever sees space-joined
tokens. jieba costs about 0.9 s to load: it is loaded once per process, on first
use, never at Django start-up.

Keywords (俗称 such as "开饭店") must come out as single tokens everywhere, so
every indexed keyword is added to jieba's dictionary and recorded in the
`SearchTerm` table; a process that did not index them (a web worker) loads that
table on first use and re-checks it every few seconds.
"""

import hashlib
import logging
import re
import threading
import time
import unicodedata
import warnings
from collections.abc import Iterable

from django.conf import settings

# Runs of letters and digits: punctuation, symbols, emoji and "_" separate tokens.
_WORD = re.compile(r"[^\W_]+")
_PLAIN_VALUE = re.compile(r"[a-z0-9]+")
FACET_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

# Function words and the words every guide contains: they only make AND queries fail.
_STOP_WORDS_TEXT = """
    的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 嘛 么 之 其 而 则 和 与 及 或 并 是 在 有 也 都 就 还 又
    我 我们 你 您 你们 他 她 它 他们 这 那 这个 那个 这些 那些 一个 一下 个 些
    要 想 想要 请 请问 麻烦 怎么 怎样 怎么样 如何 什么 哪 哪里 哪儿 哪些 哪个 为什么
    需要 可以 能 能否 应该 去 来 给 把 被 让 对 向 从 到 为 以 很 该 办 办理
    a an the and or not of to in on for is are be by at as with
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Query limits: a citizen's long sentence still searches, 2,000 pasted characters stay cheap.
MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 24
MAX_WORD_CHARS = 30


def normalize(text: str) -> str:
    """Full-width letters and digits become ASCII, case folds, so 'ＩＣＰ' finds 'icp'."""
    return unicodedata.normalize("NFKC", text).lower()


def vocabulary_words(keyword: str) -> list[str]:
    """The dictionary entries a keyword contributes (its runs of 2 to 30 characters)."""
    return [w for w in _WORD.findall(normalize(keyword)) if 2 <= len(w) <= MAX_WORD_CHARS]


class Segmenter:
    """One jieba dictionary plus the keyword vocabulary it has been taught."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._jieba = None
        self._known: set[str] = set()
        self._synced_count = -1
        self._synced_at = 0.0

    def _tokenizer(self):
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    with warnings.catch_warnings():  # jieba 0.42 has invalid escapes in regexes
                        warnings.simplefilter("ignore", DeprecationWarning)
                        import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    self._jieba = tokenizer
        return self._jieba

    def learn(self, words: Iterable[str]) -> None:
        """Teach jieba words so they come out whole; cheap for words already known."""
        new = [w for w in words if w not in self._known]
        if not new:
            return
        tokenizer = self._tokenizer()
        with self._lock:
            for word in new:
                if word not in self._known:
                    tokenizer.add_word(word)
                    self._known.add(word)

    def sync(self) -> None:
        """Load keywords other processes added (at most every few seconds)."""
        interval = getattr(settings, "YIWANG_SEARCH_VOCABULARY_REFRESH_SECONDS", 2.0)
        now = time.monotonic()
        if self._synced_count >= 0 and now - self._synced_at < interval:
            return
        from yiwang.search.models import SearchTerm

        self._synced_at = now
        count = SearchTerm.objects.count()
        if count != self._synced_count:
            self.learn(SearchTerm.objects.values_list("word", flat=True).iterator())
            self._synced_count = count

    def tokens(self, text: str) -> list[str]:
        """Search-mode segmentation without HMM, so a word splits the same in any context."""
        result: list[str] = []
        for piece in self._tokenizer().cut_for_search(normalize(text), HMM=False):
            for token in _WORD.findall(piece):
                if token not in STOP_WORDS:
                    result.append(token)
        return result

    def exact_key(self, text: str) -> str:
        """The words of `text` without stop words, glued: "我要开饭店" and "开饭店" agree."""
        words = self._tokenizer().cut(normalize(text), HMM=False)
        return "".join(t for w in words for t in _WORD.findall(w) if t not in STOP_WORDS)


_segmenter = Segmenter()


def segmenter() -> Segmenter:
    return _segmenter


def tokenize(text: str) -> list[str]:
    """Index tokens of `text` in order (duplicates kept: they count for ranking)."""
    seg = segmenter()
    seg.sync()
    return seg.tokens(text)


def query_tokens(query: str) -> list[str]:
    """Distinct tokens of a user's query, capped so any input stays a cheap query."""
    seen: dict[str, None] = {}
    for token in tokenize(query[:MAX_QUERY_CHARS]):
        seen.setdefault(token, None)
        if len(seen) >= MAX_QUERY_TOKENS:
            break
    return list(seen)


def exact_term(text: str) -> str | None:
    """Index token meaning "this is exactly the title or a keyword", for the top ranking tier."""
    seg = segmenter()
    seg.sync()
    key = seg.exact_key(text[:MAX_QUERY_CHARS])
    if not key:
        return None
    return "_exact__" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _encode_value(value: str) -> str:
    # Plain values stay readable; anything else is hex, marked by "x_" which no plain value has.
    return value if _PLAIN_VALUE.fullmatch(value) else "x_" + value.encode().hex()


def check_facet_key(key: str) -> None:
    if not FACET_KEY.fullmatch(key):
        raise ValueError(f"facet key {key!r} must be lower-case letters, digits and single '_'")


def facet_term(key: str, value: str) -> str:
    """One index token for key=value, e.g. `department__12`, `theme__x_6f70...`."""
    check_facet_key(key)
    return f"{key}__{_encode_value(str(value))}"


def kind_term(kind: str) -> str:
    # Facet keys cannot start with "_", so the kind never collides with a facet.
    return f"_kind__{_encode_value(kind)}"
