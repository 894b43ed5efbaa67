"""Changes to the search index.

The index is derived data: `index_document` and `remove_document` run inside the
caller's transaction (a rollback takes the index change with it) and write no
audit event of their own; the caller's service audits the change it indexes.

Apps that own searchable objects register a provider in `AppConfig.ready()`:

    from yiwang.search.services import Document, register_provider

    def listing_documents():
        for listing in ServiceListing.objects.all():
            yield Document(listing.id, title=..., keywords=[...], body=..., facets={...},
                           payload={...})

    register_provider("listing", listing_documents)

`manage.py search_reindex [KIND ...]` then rebuilds those kinds from scratch.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction

from yiwang.search.models import SearchDocument, SearchTerm
from yiwang.search.text import (
    check_facet_key,
    exact_term,
    facet_term,
    kind_term,
    segmenter,
    tokenize,
    vocabulary_words,
)

FacetValue = str | list[str]
TITLE_MAX = 500
KIND_MAX = 50


@dataclass(frozen=True)
class Document:
    """What a provider yields: one searchable object of its kind."""

    object_id: int
    title: str
    keywords: list[str] = field(default_factory=list)
    body: str = ""
    facets: dict[str, FacetValue] = field(default_factory=dict)
    # JSON-ready summary returned with each hit (what a result card shows); not searched.
    payload: dict[str, object] = field(default_factory=dict)


Provider = Callable[[], Iterable[Document | Mapping]]
_providers: dict[str, Provider] = {}


def register_provider(kind: str, provider: Provider) -> None:
    """`provider()` yields every current document of `kind` (`Document` or a dict of its fields)."""
    _check_kind(kind)
    _providers[kind] = provider


def registered_kinds() -> list[str]:
    return sorted(_providers)


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not kind or len(kind) > KIND_MAX:
        raise ValueError(f"search kind must be a non-empty string of at most {KIND_MAX} chars")


def _clean_facets(facets: Mapping[str, object]) -> dict[str, FacetValue]:
    """Values become strings (lists stay lists, duplicates dropped); None means 'not set'."""
    cleaned: dict[str, FacetValue] = {}
    for key, value in facets.items():
        check_facet_key(key)
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            cleaned[key] = list(dict.fromkeys(str(v) for v in value if v is not None))
        else:
            cleaned[key] = str(value)
    return cleaned


def _facet_tokens(
    kind: str, title: str, keywords: list[str], facets: Mapping[str, FacetValue]
) -> str:
    exact = {exact_term(text) for text in (title, *keywords)} - {None}
    terms = [kind_term(kind), *sorted(exact)]
    for key, value in facets.items():
        values = value if isinstance(value, list) else [value]
        terms.extend(facet_term(key, v) for v in values)
    return " ".join(terms)


def _learn_keywords(keywords: Iterable[str]) -> None:
    """Record keywords so every process keeps them whole, and teach this process now."""
    words = sorted({w for keyword in keywords for w in vocabulary_words(keyword)})
    if not words:
        return
    SearchTerm.objects.bulk_create([SearchTerm(word=w) for w in words], ignore_conflicts=True)
    segmenter().learn(words)


def _text(value: object) -> str:
    # PostgreSQL text cannot hold NUL characters; they carry no meaning here anyway.
    return str(value or "").replace("\x00", "")


def _fields(
    kind: str,
    title: str,
    keywords: list[str],
    body: str,
    facets: Mapping[str, object],
    payload: Mapping[str, object] | None,
) -> dict[str, object]:
    _check_kind(kind)
    keywords = [k for k in (_text(k).strip() for k in keywords) if k]
    cleaned = _clean_facets(facets)
    title = _text(title)[:TITLE_MAX]
    body = _text(body)
    return {
        "title": title,
        "keywords": keywords,
        "body": body,
        "facets": cleaned,
        "title_tokens": " ".join(tokenize(title)),
        "keyword_tokens": " ".join(t for k in keywords for t in tokenize(k)),
        "body_tokens": " ".join(tokenize(body)),
        "facet_tokens": _facet_tokens(kind, title, keywords, cleaned),
        "payload": dict(payload or {}),
    }


def index_document(
    kind: str,
    object_id: int,
    *,
    title: str,
    keywords: list[str],
    body: str,
    facets: dict[str, str | list[str]],
    payload: dict[str, object] | None = None,
) -> None:
    """Insert or replace the document of (kind, object_id) in the caller's transaction."""
    with transaction.atomic():
        _learn_keywords(keywords)
        SearchDocument.objects.update_or_create(
            kind=kind,
            object_id=object_id,
            defaults=_fields(kind, title, keywords, body, facets, payload),
        )


def remove_document(kind: str, object_id: int) -> None:
    """Drop the document if it is indexed; removing an unknown one is not an error."""
    SearchDocument.objects.filter(kind=kind, object_id=object_id).delete()


def _as_document(item: Document | Mapping) -> Document:
    return item if isinstance(item, Document) else Document(**item)


@transaction.atomic
def _rebuild_kind(kind: str, provider: Provider) -> int:
    documents = [_as_document(item) for item in provider()]
    # Learn every keyword first, so each body is segmented with the full vocabulary.
    _learn_keywords(k for d in documents for k in d.keywords)
    SearchDocument.objects.filter(kind=kind).delete()
    SearchDocument.objects.bulk_create(
        [
            SearchDocument(
                kind=kind,
                object_id=d.object_id,
                **_fields(kind, d.title, list(d.keywords), d.body, d.facets, d.payload),
            )
            for d in documents
        ],
        batch_size=500,
    )
    return len(documents)


def rebuild(kind: str | None = None) -> dict[str, int]:
    """Replace the index of one kind (or of every registered kind) with what its provider yields.

    Each kind is rebuilt in its own transaction, so searches never see it half done.
    Returns the number of documents indexed per kind.
    """
    if kind is not None and kind not in _providers:
        raise LookupError(f"no search provider registered for kind {kind!r}")
    kinds = [kind] if kind is not None else registered_kinds()
    return {k: _rebuild_kind(k, _providers[k]) for k in kinds}
