"""Ranked search and facet browsing over the index.

The whole query path is one SQL statement (plus, when every word together finds
nothing, a second one that accepts any word): filtering, ranking, counting and
paging all happen inside the vendor's full-text index.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yiwang.search.backends import backend
from yiwang.search.text import exact_term, facet_term, query_tokens

MAX_LIMIT = 200


@dataclass(frozen=True)
class Hit:
    object_id: int
    score: float
    # What the provider stored for result lists (`Document.payload`), ready to serialize.
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[Hit] = field(default_factory=list)
    # True when no document had every word and the hits match only some of them.
    partial: bool = False


def _facet_groups(facets: Mapping[str, str | list[str] | None]) -> list[list[str]] | None:
    """One group per key (a list value means any of them); None when nothing can match."""
    groups = []
    for key, value in facets.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        if not values:
            return None
        groups.append(sorted({facet_term(key, str(v)) for v in values}))
    return groups


def search(
    kind: str,
    query: str,
    *,
    facets: Mapping[str, str | list[str] | None] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Documents of `kind` matching `query`, best first; a blank query lists them by title.

    Documents whose title or a keyword is exactly the query come first, then the
    rest by relevance (title matches weigh most, then keywords, then body). On SQLite,
    words in more than half of all documents carry no weight in bm25 and are ranked only
    where they are in a title or a keyword; their other matches follow with score 0.

    Every word must match; if no document has them all, any word will do (ranked by
    how many and where they match) and the page says `partial`. Facets filter
    exactly: all keys must match; a document's list value matches if any element
    equals; a list in `facets` means any of its values.
    """
    groups = _facet_groups(facets or {})
    if groups is None:
        return SearchPage(0, [])
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    vendor = backend()
    partial = False
    if not (query or "").strip():
        total, rows = vendor.browse(kind, groups, limit, offset)
    else:
        tokens = query_tokens(query)
        if not tokens:
            return SearchPage(0, [])
        exact = exact_term(query) or ""
        total, rows = vendor.search(kind, groups, tokens, "AND", exact, limit, offset)
        if total == 0 and len(tokens) > 1:
            total, rows = vendor.search(kind, groups, tokens, "OR", exact, limit, offset)
            partial = total > 0
    hits = [Hit(r.object_id, r.score, json.loads(r.payload) if r.payload else {}) for r in rows]
    return SearchPage(total, hits, partial)
