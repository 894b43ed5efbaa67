"""The search index: one row per indexed object, plus the keyword vocabulary.

The row keeps the original text (for rebuilding and debugging) and the
space-joined jieba tokens that the vendor's full-text index reads: an FTS5
table on SQLite, generated tsvector/text[] columns on PostgreSQL (see
`yiwang.search.backends`, created by migration 0002).
"""

from django.db import models


class SearchDocument(models.Model):
    kind = models.CharField(max_length=50)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=500)
    keywords = models.JSONField(default=list, blank=True)
    body = models.TextField(blank=True)
    facets = models.JSONField(default=dict, blank=True)
    title_tokens = models.TextField(blank=True)
    keyword_tokens = models.TextField(blank=True)
    body_tokens = models.TextField(blank=True)
    facet_tokens = models.TextField(blank=True)
    # What a result list shows, from the provider: hits carry it, so a search needs no
    # second query and the caller builds no model instances (docs/search.md).
    payload = models.JSONField(default=dict, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique")
        ]
        indexes = [models.Index(fields=["kind", "title"], name="search_document_browse")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.title}"


class SearchTerm(models.Model):
    """A word jieba must keep whole (a keyword); every process loads these on first use."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word
