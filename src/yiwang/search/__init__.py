"""Ranked Chinese full-text search shared by the catalog, hotline knowledge base and others.

Write with `yiwang.search.services`, read with `yiwang.search.selectors`; see docs/search.md.
"""

from yiwang.search.text import tokenize

__all__ = ["tokenize"]
