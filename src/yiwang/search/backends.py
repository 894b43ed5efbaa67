"""Everything that differs between SQLite and PostgreSQL lives here.

Both vendors index the same token columns of `SearchDocument`; filtering,
ranking, counting and paging happen in one SQL statement inside the index.

- SQLite: an external-content FTS5 table kept in step by triggers (so a
  rollback undoes it with the rest of the transaction), tokenizer `unicode61`
  over the space-joined jieba tokens, `bm25` with column weights; facets are
  tokens of their own column matched with a column filter.
- PostgreSQL: generated columns `search_vector` (tsvector, config 'simple',
  weights A/B/C for title/keywords/body) and `facet_terms` (text[]), each with a
  GIN index; `ts_rank` ranks (half the cost of `ts_rank_cd` here), `@>` and `&&`
  filter facets.

Every value that comes from a user is a bound parameter; the f-strings below only
splice in this module's own constants (hence the `noqa: S608` marks).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from yiwang.search.text import kind_term

TABLE = "search_searchdocument"
FTS = "search_searchdocument_fts"
TEXT_COLUMNS = ("title_tokens", "keyword_tokens", "body_tokens")
ALL_COLUMNS = (*TEXT_COLUMNS, "facet_tokens")

# Title beats keywords beats body; facets never rank.
SQLITE_WEIGHTS = (20.0, 8.0, 1.0, 0.0)
# ts_rank weights in the order D, C (body), B (keywords), A (title).
POSTGRES_WEIGHTS = "{0.05,0.1,0.5,1.0}"

# A document whose title or a keyword is exactly the query ranks above all others.
EXACT_BONUS = 1000.0

# Facet filter: each group is a list of terms of which one must match; all groups must.
FacetGroups = Sequence[Sequence[str]]


@dataclass(frozen=True)
class Row:
    object_id: int
    score: float
    # The document's payload as JSON text (both vendors hand jsonb/JSON back as text).
    payload: str


class _Backend:
    @staticmethod
    def _page(
        sql: str, params: list, count_sql: str, count_params: list, limit: int, offset: int
    ) -> tuple[int, list[Row]]:
        """One statement gives the page and the total; only a page past the end needs a count.

        `sql` selects object_id, score, total, payload.
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if rows:
                return rows[0][2], [Row(r[0], float(r[1]), r[3]) for r in rows]
            if offset == 0 and limit > 0:
                return 0, []
            cursor.execute(count_sql, count_params)
            return cursor.fetchone()[0], []


class SqliteBackend(_Backend):
    _cols = ", ".join(ALL_COLUMNS)
    _new = ", ".join(f"new.{c}" for c in ALL_COLUMNS)
    _old = ", ".join(f"old.{c}" for c in ALL_COLUMNS)
    INSTALL = (
        f"""CREATE VIRTUAL TABLE {FTS} USING fts5({_cols},
            content='{TABLE}', content_rowid='id',
            tokenize="unicode61 remove_diacritics 2 tokenchars '_'")""",
        f"""CREATE TRIGGER search_document_fts_insert AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {FTS}(rowid, {_cols}) VALUES (new.id, {_new}); END""",  # noqa: S608
        f"""CREATE TRIGGER search_document_fts_delete AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, {_cols}) VALUES ('delete', old.id, {_old}); END""",  # noqa: S608
        f"""CREATE TRIGGER search_document_fts_update AFTER UPDATE ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, {_cols}) VALUES ('delete', old.id, {_old});
            INSERT INTO {FTS}(rowid, {_cols}) VALUES (new.id, {_new}); END""",  # noqa: S608
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",  # noqa: S608
    )
    UNINSTALL = (
        "DROP TRIGGER IF EXISTS search_document_fts_insert",
        "DROP TRIGGER IF EXISTS search_document_fts_delete",
        "DROP TRIGGER IF EXISTS search_document_fts_update",
        f"DROP TABLE IF EXISTS {FTS}",
    )

    @staticmethod
    def _phrase(token: str) -> str:
        # A double-quoted FTS5 string is always one phrase; "" escapes a quote.
        return '"' + token.replace('"', '""') + '"'

    def _match(self, kind: str, groups: FacetGroups, tokens: Sequence[str], op: str) -> str:
        filters = [[kind_term(kind)], *groups]
        parts = [
            "{facet_tokens} : (" + " OR ".join(self._phrase(t) for t in group) + ")"
            for group in filters
        ]
        if tokens:
            joined = f" {op} ".join(self._phrase(t) for t in tokens)
            parts.append("{" + " ".join(TEXT_COLUMNS) + "} : (" + joined + ")")
        return " AND ".join(parts)

    @staticmethod
    def _has_term(term: str) -> str:
        # One token of the document's space-joined facet_tokens; the term is a bound parameter.
        return "instr(' ' || d.facet_tokens || ' ', ' ' || %s || ' ') > 0"

    def search(self, kind, groups, tokens, op, exact, limit, offset) -> tuple[int, list[Row]]:
        # bm25() costs a scan of every phrase's document list, so the FTS query holds only
        # the words: kind and facet terms (in most documents) would cost a scan of the whole
        # index per query. They filter the matched rows instead, as does the exact tier.
        # Facet phrases had column weight 0, so the scores are the same either way.
        match = "{" + " ".join(TEXT_COLUMNS) + "} : (" + f" {op} ".join(map(self._phrase, tokens))
        match += ")"
        clauses, params = ["d.kind = %s"], [kind]
        for group in groups:
            clauses.append("(" + " OR ".join(self._has_term(t) for t in group) + ")")
            params.extend(group)
        where = " AND ".join(clauses)
        weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
        # bm25() only works in the FTS query itself: rank there, then filter, page and count
        # the materialized result (a scalar count is cheaper here than COUNT(*) OVER ()).
        bonus = f"{EXACT_BONUS} * ({self._has_term('')})" if exact else "0"
        # Both CTEs materialized: inlined, SQLite would run the FTS query once per document.
        matched = f"""
            WITH ranked AS MATERIALIZED (
                SELECT rowid AS id, -bm25({FTS}, {weights}) AS score FROM {FTS}
                WHERE {FTS} MATCH %s
            ), matched AS MATERIALIZED (
                SELECT r.id, r.score + {bonus} AS score
                FROM ranked AS r JOIN {TABLE} AS d ON d.id = r.id WHERE {where}
            )"""  # noqa: S608
        sql = f"""{matched},
            page AS (SELECT id, score FROM matched ORDER BY score DESC, id LIMIT %s OFFSET %s)
            SELECT d.object_id, page.score, (SELECT COUNT(*) FROM matched), d.payload
            FROM page JOIN {TABLE} AS d ON d.id = page.id ORDER BY page.score DESC, page.id"""  # noqa: S608
        count_sql = f"{matched} SELECT COUNT(*) FROM matched"  # noqa: S608
        params = [match, exact, *params] if exact else [match, *params]
        return self._page(sql, [*params, limit, offset], count_sql, params, limit, offset)

    def browse(self, kind, groups, limit, offset) -> tuple[int, list[Row]]:
        # Walk the (kind, title) index in order; facets only decide which rows qualify.
        if not groups:
            count_sql = f"SELECT COUNT(*) FROM {TABLE} WHERE kind = %s"  # noqa: S608
            sql = f"""SELECT object_id, 0.0, ({count_sql}), payload FROM {TABLE} WHERE kind = %s
                ORDER BY title, object_id LIMIT %s OFFSET %s"""  # noqa: S608
            return self._page(sql, [kind, kind, limit, offset], count_sql, [kind], limit, offset)
        match = self._match(kind, groups, (), "AND")
        count_sql = f"SELECT COUNT(*) FROM {FTS} WHERE {FTS} MATCH %s"  # noqa: S608
        sql = f"""
            SELECT object_id, 0.0, ({count_sql}), payload FROM {TABLE}
            WHERE kind = %s AND id IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)
            ORDER BY title, object_id LIMIT %s OFFSET %s"""  # noqa: S608
        return self._page(
            sql, [match, kind, match, limit, offset], count_sql, [match], limit, offset
        )


class PostgresBackend(_Backend):
    INSTALL = (
        f"""ALTER TABLE {TABLE}
            ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('simple'::regconfig, title_tokens), 'A')
                || setweight(to_tsvector('simple'::regconfig, keyword_tokens), 'B')
                || setweight(to_tsvector('simple'::regconfig, body_tokens), 'C')) STORED,
            ADD COLUMN facet_terms text[] GENERATED ALWAYS AS (
                string_to_array(facet_tokens, ' ')) STORED""",
        # Keep rows up to 8 KB inline: ranking reads every match's tsvector, and a TOAST
        # fetch per row made frequent words ~5x slower (docs/search.md).
        f"ALTER TABLE {TABLE} SET (toast_tuple_target = 8160)",
        f"CREATE INDEX search_document_vector ON {TABLE} USING gin (search_vector)",
        f"CREATE INDEX search_document_facet_terms ON {TABLE} USING gin (facet_terms)",
    )
    UNINSTALL = (
        "DROP INDEX IF EXISTS search_document_vector",
        "DROP INDEX IF EXISTS search_document_facet_terms",
        f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
        f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS facet_terms",
        f"ALTER TABLE {TABLE} RESET (toast_tuple_target)",
    )

    @staticmethod
    def _lexeme(token: str) -> str:
        # A quoted tsquery operand; quotes and backslashes escaped, so no token is syntax.
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"

    @staticmethod
    def _where(kind: str, groups: FacetGroups) -> tuple[str, list]:
        clauses, params = ["kind = %s"], [kind]
        required = [group[0] for group in groups if len(group) == 1]
        if required:
            clauses.append("facet_terms @> %s::text[]")
            params.append(required)
        for group in groups:
            if len(group) > 1:
                clauses.append("facet_terms && %s::text[]")
                params.append(list(group))
        return " AND ".join(clauses), params

    def search(self, kind, groups, tokens, op, exact, limit, offset) -> tuple[int, list[Row]]:
        where, params = self._where(kind, groups)
        query = f" {'&' if op == 'AND' else '|'} ".join(self._lexeme(t) for t in tokens)
        matched = f"""
            SELECT object_id, payload,
                   ts_rank('{POSTGRES_WEIGHTS}'::float4[], search_vector, q)
                   + CASE WHEN facet_terms @> ARRAY[%s]::text[] THEN {EXACT_BONUS} ELSE 0 END
                   AS score
            FROM {TABLE}, to_tsquery('simple'::regconfig, %s) AS q
            WHERE {where} AND search_vector @@ q"""  # noqa: S608
        sql = f"""WITH matched AS ({matched})
            SELECT object_id, score, (SELECT COUNT(*) FROM matched), payload FROM matched
            ORDER BY score DESC, object_id LIMIT %s OFFSET %s"""  # noqa: S608
        count_sql = f"SELECT COUNT(*) FROM ({matched}) AS matched"  # noqa: S608
        return self._page(
            sql,
            [exact, query, *params, limit, offset],
            count_sql,
            [exact, query, *params],
            limit,
            offset,
        )

    def browse(self, kind, groups, limit, offset) -> tuple[int, list[Row]]:
        where, params = self._where(kind, groups)
        count_sql = f"SELECT COUNT(*) FROM {TABLE} WHERE {where}"  # noqa: S608
        sql = f"""SELECT object_id, 0.0, ({count_sql}), payload FROM {TABLE} WHERE {where}
            ORDER BY title, object_id LIMIT %s OFFSET %s"""  # noqa: S608
        return self._page(sql, [*params, *params, limit, offset], count_sql, params, limit, offset)


def backend(conn: BaseDatabaseWrapper | None = None) -> SqliteBackend | PostgresBackend:
    vendor = (conn or connection).vendor
    if vendor == "sqlite":
        return SqliteBackend()
    if vendor == "postgresql":
        return PostgresBackend()
    raise NotImplementedError(f"yiwang.search supports SQLite and PostgreSQL, not {vendor}")


def install(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cursor:
        for sql in backend(conn).INSTALL:
            cursor.execute(sql)


def uninstall(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cursor:
        for sql in backend(conn).UNINSTALL:
            cursor.execute(sql)
