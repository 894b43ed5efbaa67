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

# Up to this many documents with the words, kind and facets are checked on the matched rows;
# above it they are an index merge, and words in more than half of all documents rank only
# where they are in a title or a keyword (SqliteBackend.search).
FEW_MATCHES = 1000

# An FTS5 query that matches nothing: no indexed token starts with "_n" (words are letters
# and digits, facet terms start with their key, kind and exact terms with "_kind", "_exact").
NOTHING = '"_nothing"'

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
    def _has_term() -> str:
        # One token of the document's space-joined facet_tokens; the term is a bound parameter.
        return "instr(' ' || d.facet_tokens || ' ', ' ' || %s || ' ') > 0"

    @staticmethod
    def _phrase(token: str) -> str:
        # A double-quoted FTS5 string is always one phrase; "" escapes a quote.
        return '"' + token.replace('"', '""') + '"'

    def _match(self, kind: str | None, groups: FacetGroups, tokens: Sequence[str], op: str) -> str:
        filters = [[kind_term(kind)], *groups] if kind else [*groups]
        parts = [
            "{facet_tokens} : (" + " OR ".join(self._phrase(t) for t in group) + ")"
            for group in filters
        ]
        if tokens:
            joined = f" {op} ".join(self._phrase(t) for t in tokens)
            parts.append("{" + " ".join(TEXT_COLUMNS) + "} : (" + joined + ")")
        return " AND ".join(parts)

    def search(self, kind, groups, tokens, op, exact, limit, offset) -> tuple[int, list[Row]]:
        # bm25() is the cost: it reads every ranked row's positions and sizes, and FTS5
        # computes it only for the rows that pass the WHERE clause of the query calling it.
        # So bm25 sees only the words (facet phrases, in most documents, would cost a scan of
        # the whole index; their column weight was 0, so scores are unchanged), and only the
        # rows worth ranking. How they are found depends on how many documents have the words:
        # - few (< FEW_MATCHES): rank them all, checking kind and facets on the document rows;
        # - more: kind and facets are an index merge (`hits`), cheaper than reading rows;
        # - in more than half of all documents (bm25 gives such words an idf of ~0, so their
        #   order is noise): rank only the matches with a word in the title or a keyword (or
        #   the exact tier); the others follow unranked (score 0) in rowid order, which FTS5
        #   gives without sorting, and the page stops reading them once it is full.
        # Every CTE is materialized (inlined, SQLite would run an FTS query once per row) and
        # computed on first use, so a mode only pays for what it reads. "rowid + 0" keeps the
        # IN lists from driving the FTS cursors (bm25 needs MATCH to drive).
        words = self._match(None, (), tokens, op)
        hits_match = self._match(kind, groups, tokens, op)
        prominent = "{title_tokens keyword_tokens} : (" + " OR ".join(map(self._phrase, tokens))
        prominent += ")"
        exact_ids, exact_params = "SELECT NULL WHERE 0", []
        if exact:
            prominent = f"({prominent} OR {{facet_tokens}} : {self._phrase(exact)})"
            exact_ids = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s"  # noqa: S608
            exact_params = ["{facet_tokens} : " + self._phrase(exact)]
        weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
        facet_checks = "".join(
            " AND (" + " OR ".join([self._has_term()] * len(group)) + ")" for group in groups
        )
        sql = f"""
            WITH matches(n) AS MATERIALIZED (SELECT COUNT(*) FROM {FTS} WHERE {FTS} MATCH %s),
            mode(few, frequent) AS MATERIALIZED (
                SELECT n < {FEW_MATCHES}, CASE WHEN n < {FEW_MATCHES} THEN 0
                ELSE n * 2 > (SELECT COUNT(*) FROM {TABLE}) END FROM matches),
            hits(id) AS MATERIALIZED (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s),
            exact(id) AS MATERIALIZED ({exact_ids}),
            ranked(id, score) AS MATERIALIZED (
                SELECT rowid, -bm25({FTS}, {weights}) FROM {FTS}
                WHERE {FTS} MATCH iif((SELECT frequent FROM mode), %s, %s)
                AND CASE WHEN (SELECT few OR frequent FROM mode) THEN EXISTS (
                    SELECT 1 FROM {TABLE} AS d
                    WHERE d.id = {FTS}.rowid AND d.kind = %s{facet_checks})
                ELSE rowid + 0 IN hits END),
            total(n) AS MATERIALIZED (
                SELECT CASE WHEN (SELECT frequent FROM mode)
                THEN (SELECT COUNT(*) FROM {FTS} WHERE {FTS} MATCH %s)
                ELSE (SELECT COUNT(*) FROM ranked) END),
            page AS (
                SELECT * FROM (
                    SELECT id, score + {EXACT_BONUS} * (id IN exact) AS score FROM ranked
                    ORDER BY score DESC, id)
                UNION ALL SELECT * FROM (
                    SELECT rowid, 0.0 FROM {FTS}
                    WHERE {FTS} MATCH iif((SELECT frequent FROM mode), %s, '{NOTHING}')
                    AND rowid + 0 NOT IN (SELECT id FROM ranked) ORDER BY rowid)
                LIMIT %s OFFSET %s)
            SELECT d.object_id, page.score, (SELECT n FROM total), d.payload
            FROM page JOIN {TABLE} AS d ON d.id = page.id ORDER BY page.score DESC, page.id"""  # noqa: S608
        count_sql = f"SELECT COUNT(*) FROM {FTS} WHERE {FTS} MATCH %s"  # noqa: S608
        params = [words, hits_match, *exact_params, f"({words}) AND {prominent}", words, kind]
        params += [term for group in groups for term in group]
        params += [hits_match, hits_match, limit, offset]
        return self._page(sql, params, count_sql, [hits_match], limit, offset)

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
