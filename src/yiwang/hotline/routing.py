"""Smart routing (智能派单): which department a ticket's text most likely belongs to.

The model is learned from closed tickets by `manage.py train_routing`
(`routing_train`, docs/hotline-routing.md) and stored in `RoutingModel`; the newest
active one serves. Each process loads it once and, at most every
YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS, asks the database (one small query) whether a
newer one was saved, so a retrained model reaches every worker within seconds.
Without a model there are no suggestions and the dispatcher uses the dispatch
catalogue alone; a model that cannot be read is logged and treated the same way, so
routing never stops a ticket from being registered.

What is stored is not a pickle but the fitted numbers (vocabularies, IDF weights,
coefficients) in an `.npz` archive read with `allow_pickle=False`: loading a model
runs no code from the database, needs no scikit-learn, and scoring one text is a few
dictionary lookups and one small matrix product (well under a millisecond).
"""

import io
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from yiwang.hotline.models import RoutingModel
from yiwang.identity.models import Department
from yiwang.search.text import tokenize

log = logging.getLogger(__name__)
# Long enough for any complaint's gist; longer texts cost time and add little.
MAX_CHARS = 1000
CHAR_NGRAMS = (1, 2)
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Suggestion:
    department_id: int
    department_name: str
    confidence: float


def words(text: str) -> list[str]:
    """jieba tokens as search indexes them (`yiwang.search.text`), stop words dropped."""
    return tokenize(text[:MAX_CHARS])


def char_ngrams(text: str, low: int = CHAR_NGRAMS[0], high: int = CHAR_NGRAMS[1]) -> list[str]:
    """Characters and character pairs, as scikit-learn's `analyzer="char"` cuts them
    (lower case, runs of white space as one): they catch words jieba splits otherwise."""
    text = _SPACES.sub(" ", text[:MAX_CHARS].lower())
    grams = list(text) if low == 1 else []
    for n in range(max(low, 2), min(high, len(text)) + 1):
        grams += [text[i : i + n] for i in range(len(text) - n + 1)]
    return grams


class Scorer:
    """A trained model: TF-IDF over jieba words and over character n-grams (each part
    normalized to unit length, sublinear term frequency), then multinomial logistic
    regression, one class per department."""

    def __init__(
        self,
        departments: list[int],
        vocabularies: tuple[dict[str, int], dict[str, int]],
        idf: tuple[np.ndarray, np.ndarray],
        coefficients: np.ndarray,
        intercept: np.ndarray,
    ):
        self.departments = [int(d) for d in departments]
        self.vocabularies = vocabularies
        self.idf = (np.asarray(idf[0], dtype=float), np.asarray(idf[1], dtype=float))
        self.coefficients = np.asarray(coefficients, dtype=float)  # classes × features
        self.intercept = np.asarray(intercept, dtype=float)
        self._by_feature = np.ascontiguousarray(self.coefficients.T)
        self._idf_lists = (self.idf[0].tolist(), self.idf[1].tolist())

    def features(self, text: str, tokens: list[str] | None = None) -> tuple[list[int], list[float]]:
        """The text's non-zero TF-IDF columns and values."""
        columns: list[int] = []
        values: list[float] = []
        analyzed = (words(text) if tokens is None else tokens, char_ngrams(text))
        offset = 0
        for features, vocabulary, idf in zip(
            analyzed, self.vocabularies, self._idf_lists, strict=True
        ):
            counts: dict[int, int] = {}
            for feature in features:
                column = vocabulary.get(feature)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            block = {c: (1 + math.log(n)) * idf[c] for c, n in counts.items()}
            norm = math.sqrt(sum(v * v for v in block.values())) or 1.0
            columns += [offset + c for c in block]
            values += [v / norm for v in block.values()]
            offset += len(vocabulary)
        return columns, values

    def probabilities(self, text: str, tokens: list[str] | None = None) -> list[float]:
        """One probability per department of `departments`; they sum to 1."""
        columns, values = self.features(text, tokens)
        scores = self.intercept + np.asarray(values) @ self._by_feature[columns]
        scores = np.exp(scores - scores.max())
        return (scores / scores.sum()).tolist()

    def dumps(self) -> bytes:
        out = io.BytesIO()
        vocabularies = json.dumps(self.vocabularies, ensure_ascii=False).encode()
        np.savez_compressed(
            out,
            departments=np.asarray(self.departments, dtype=np.int64),
            vocabularies=np.frombuffer(vocabularies, dtype=np.uint8),
            word_idf=self.idf[0],
            char_idf=self.idf[1],
            coefficients=self.coefficients,
            intercept=self.intercept,
        )
        return out.getvalue()

    @classmethod
    def loads(cls, blob: bytes) -> "Scorer":
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            words_, chars = json.loads(data["vocabularies"].tobytes().decode())
            return cls(
                data["departments"].tolist(),
                (words_, chars),
                (data["word_idf"], data["char_idf"]),
                data["coefficients"],
                data["intercept"],
            )


@dataclass
class _Loaded:
    model_id: int
    scorer: Scorer | None  # None: the stored model could not be read
    names: dict[int, str]


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded: _Loaded | None = None
        self.checked = float("-inf")


_cache = _Cache()


def forget() -> None:
    """Drop the loaded model: the next suggestion asks the database again (after training)."""
    with _cache.lock:
        _cache.loaded, _cache.checked = None, float("-inf")


def _load(model_id: int) -> _Loaded:
    blob = RoutingModel.objects.filter(pk=model_id).values_list("blob", flat=True).first()
    try:
        scorer = Scorer.loads(bytes(blob))
    except Exception:  # a damaged or foreign blob must not stop registration
        log.exception("routing model %s cannot be read; no suggestions", model_id)
        return _Loaded(model_id, None, {})
    names = Department.objects.filter(pk__in=scorer.departments).values_list("pk", "name")
    return _Loaded(model_id, scorer, dict(names))


def _current() -> _Loaded | None:
    interval = float(getattr(settings, "YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS", 5))
    now = time.monotonic()
    with _cache.lock:
        if now - _cache.checked < interval:
            return _cache.loaded
        newest = (
            RoutingModel.objects.filter(is_active=True)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        _cache.checked = now
        if newest is None:
            _cache.loaded = None
        elif _cache.loaded is None or _cache.loaded.model_id != newest:
            _cache.loaded = _load(newest)
        return _cache.loaded


def suggest(text: str, k: int = 3) -> list[Suggestion]:
    """The `k` likeliest departments for `text`, best first; [] without a trained model.

    Confidences are the model's probabilities over all the departments it knows, so
    those of the `k` shown sum to at most 1.
    """
    text = (text or "").strip()
    if not text or k <= 0:
        return []
    loaded = _current()
    if loaded is None or loaded.scorer is None:
        return []
    probabilities = loaded.scorer.probabilities(text)
    ids = loaded.scorer.departments
    result = []
    for i in sorted(range(len(ids)), key=lambda i: -probabilities[i]):
        name = loaded.names.get(ids[i])
        if name is None:  # a department removed since training
            continue
        result.append(Suggestion(ids[i], name, probabilities[i]))
        if len(result) == k:
            break
    return result
