"""Ranking, facets, browsing and paging, as a citizen searching the catalog sees them."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from yiwang.search import backends, services
from yiwang.search.models import SearchDocument
from yiwang.search.selectors import search
from yiwang.search.tests.conftest import (
    BIRTH_CERT,
    BIRTH_REG,
    FOOD,
    FUND,
    HYGIENE,
    LICENCE_CHANGE,
    SOLE_TRADER,
)
from yiwang.search.tests.factories import IndexedDocumentFactory

pytestmark = pytest.mark.django_db


def ids(page) -> list[int]:
    return [hit.object_id for hit in page.hits]


# (query, ids that must come first in any order, ids that must follow somewhere)
RANKING = [
    ("开饭店", [FOOD], [SOLE_TRADER, HYGIENE]),  # keyword beats body mentions
    ("营业执照", [SOLE_TRADER, LICENCE_CHANGE], [FOOD, HYGIENE]),  # titles beat bodies
    ("生孩子", [BIRTH_CERT, BIRTH_REG], []),
    ("食品经营许可", [FOOD], []),
    ("食品", [FOOD], []),
    ("出生医学证明", [BIRTH_CERT], []),
    ("公积金", [FUND], []),
    ("取公积金", [FUND], []),
    ("卫生许可", [HYGIENE], []),
    ("我想开饭店需要办什么手续", [FOOD], [SOLE_TRADER, HYGIENE]),  # a sentence still works
    ("办证", [SOLE_TRADER], []),
]


@pytest.mark.parametrize("query, first, later", RANKING, ids=[r[0] for r in RANKING])
def test_ranking(catalog, query, first, later):
    found = ids(search("listing", query))
    assert sorted(found[: len(first)]) == sorted(first), found
    assert set(later) <= set(found[len(first) :]), found


@pytest.mark.parametrize("query", ["营业执照", "公积金", "许可 登记 证明 公积金"])
def test_scores_are_best_first(catalog, query):
    scores = [hit.score for hit in search("listing", query).hits]
    assert scores == sorted(scores, reverse=True)
    assert scores and scores[0] > 0 and all(score >= 0 for score in scores)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL ranks every match (ts_rank is cheap there)"
)
def test_a_word_in_most_documents_ranks_only_title_and_keyword_matches(catalog, monkeypatch):
    # 营业执照 is in 4 of the 7 listings: bm25 gives it almost no weight, so only the
    # listings with it in the title rank; body mentions follow unranked, in index order.
    # (Real catalogs only ask from a few hundred matches on: ranking fewer is cheap.)
    monkeypatch.setattr(backends, "FEW_MATCHES", 1)
    page = search("listing", "营业执照")
    assert page.total == 4
    assert sorted(ids(page)[:2]) == sorted([SOLE_TRADER, LICENCE_CHANGE])
    assert all(hit.score > 0 for hit in page.hits[:2])
    unranked = page.hits[2:]
    assert {hit.object_id for hit in unranked} == {FOOD, HYGIENE}
    assert all(hit.score == 0 for hit in unranked)
    rows = dict(SearchDocument.objects.filter(kind="listing").values_list("object_id", "id"))
    assert [rows[hit.object_id] for hit in unranked] == sorted(rows[h.object_id] for h in unranked)
    pages = [search("listing", "营业执照", limit=1, offset=offset) for offset in range(5)]
    assert [i for p in pages for i in ids(p)] == ids(page)
    assert {p.total for p in pages} == {4}
    # Facets filter the ranked and the unranked matches alike.
    narrowed = search("listing", "营业执照", facets={"item_type": "01"})
    expected = SearchDocument.objects.filter(
        kind="listing", object_id__in=ids(page), facets__item_type="01"
    ).values_list("object_id", flat=True)
    assert narrowed.total == len(expected) > 0
    assert sorted(ids(narrowed)) == sorted(expected)


def test_all_words_must_match_before_any_word_will_do(catalog):
    exact = search("listing", "营业执照 变更")
    assert ids(exact) == [LICENCE_CHANGE]
    assert not exact.partial
    loose = search("listing", "营业执照 护照")  # nobody has both
    assert loose.partial
    assert set(ids(loose)) == {SOLE_TRADER, LICENCE_CHANGE, FOOD, HYGIENE}


def test_other_kinds_never_leak(catalog):
    page = search("faq", "营业执照")
    assert page.total == 1 and ids(page) == [FOOD]
    assert search("opendata", "营业执照").total == 0


@pytest.mark.parametrize(
    "query, facets, expected",
    [
        ("营业执照", {"department": "13"}, {SOLE_TRADER, LICENCE_CHANGE}),
        ("营业执照", {"department": "12"}, {FOOD}),
        ("营业执照", {"department": "99"}, set()),
        ("", {"theme": "birth"}, {BIRTH_CERT, BIRTH_REG}),  # stored list: any element
        ("", {"theme": "family"}, {BIRTH_REG}),
        ("", {"item_type": "20", "theme": "birth"}, {BIRTH_CERT, BIRTH_REG}),  # AND across keys
        ("", {"item_type": "01", "theme": "birth"}, set()),
        ("", {"department": ["12", "20"]}, {FOOD, BIRTH_CERT}),  # list asked: any of them
        ("", {"department": []}, set()),
        ("", {"theme": "open-restaurant"}, {FOOD, SOLE_TRADER}),
        ("开饭店", {"theme": "open-restaurant"}, {FOOD, SOLE_TRADER}),
        ("", {"department": "1"}, set()),  # exact, never a prefix of "12" or "13"
        ("", {"theme": None}, {1, 2, 3, 4, 5, 6, 7}),  # None means no filter
    ],
)
def test_facets_filter_exactly(catalog, query, facets, expected):
    page = search("listing", query, facets=facets)
    assert set(ids(page)) == expected
    assert page.total == len(expected)


def test_empty_query_browses_in_title_order(catalog):
    page = search("listing", "", facets={"item_type": "01"})
    in_title_order = list(
        SearchDocument.objects.filter(kind="listing", facets__item_type="01")
        .order_by("title", "object_id")
        .values_list("object_id", flat=True)
    )
    assert ids(page) == in_title_order
    assert page.total == 4
    assert search("listing", "   ").total == 7


@pytest.mark.parametrize("query", ["营业执照", "", "许可 登记 证明 公积金"])
def test_paging_walks_every_hit_once(catalog, query):
    everything = search("listing", query, limit=100)
    pages = [search("listing", query, limit=2, offset=offset) for offset in range(0, 10, 2)]
    assert all(page.total == everything.total for page in pages)
    assert [i for page in pages for i in ids(page)] == ids(everything)


def test_a_page_past_the_end_still_knows_the_total(catalog):
    page = search("listing", "营业执照", offset=50)
    assert page.hits == [] and page.total == 4
    assert search("listing", "", offset=50).total == 7
    assert search("listing", "", facets={"theme": "birth"}, offset=50).total == 2
    assert search("listing", "营业执照", limit=0).total == 4


def test_reindexing_replaces_the_document(catalog):
    services.index_document(
        "listing", FOOD, title="餐饮服务许可", keywords=[], body="", facets={"department": "15"}
    )
    assert FOOD not in ids(search("listing", "开饭店"))
    assert ids(search("listing", "餐饮")) == [FOOD]
    assert ids(search("listing", "", facets={"department": "15"})) == [FOOD]
    assert search("listing", "", facets={"department": "12"}).total == 0
    assert SearchDocument.objects.filter(kind="listing", object_id=FOOD).count() == 1


def test_remove_document(catalog):
    services.remove_document("listing", BIRTH_CERT)
    assert ids(search("listing", "生孩子")) == [BIRTH_REG]
    services.remove_document("listing", 424242)  # unknown: nothing happens
    assert search("faq", "营业执照").total == 1


def test_a_rollback_takes_the_index_change_with_it(catalog):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.index_document(
            "listing", FOOD, title="改名", keywords=["改名"], body="", facets={}
        )
        IndexedDocumentFactory(object_id=99, title="临时事项")
        services.remove_document("listing", FUND)
        raise RuntimeError("the caller's change failed")
    assert ids(search("listing", "开饭店"))[0] == FOOD
    assert search("listing", "临时事项").total == 0
    assert ids(search("listing", "公积金")) == [FUND]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_nothing_indexed():
    with pytest.raises(RuntimeError), transaction.atomic():
        IndexedDocumentFactory(object_id=5, title="营业执照注销登记")
        assert search("listing", "注销").total == 1
        raise RuntimeError
    assert search("listing", "注销").total == 0
    assert not SearchDocument.objects.exists()


# Fragments of FTS5 and tsquery syntax, SQL and odd characters a search box may receive.
HOSTILE = [
    '"',
    "'",
    "*",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    "^",
    "-",
    "+",
    ":",
    "NEAR(a b, 2)",
    "{title_tokens}:",
    "title_tokens:",
    "& | ! <-> :*",
    "\\",
    "\x00",
    "😀🎉",
    "; DROP TABLE search_searchdocument; --",
]


@pytest.mark.parametrize("fragment", HOSTILE)
def test_hostile_queries_still_find_the_words(catalog, fragment):
    for query in (f"营业执照{fragment}", f"{fragment} 营业执照", f"{fragment}营业执照{fragment}"):
        page = search("listing", query, facets={"department": "13"})
        assert set(ids(page)) == {SOLE_TRADER, LICENCE_CHANGE}, query


def test_a_pasted_essay_is_cut_short_and_still_finds(catalog):
    page = search("listing", "营业执照" * 500)
    assert set(ids(page)[:2]) == {SOLE_TRADER, LICENCE_CHANGE}


@pytest.mark.parametrize(
    "query", ['"', "*", "AND", "(", "😀", "\x00", ")(*&^%$#@!", "_kind__faq", "department__13"]
)
def test_hostile_queries_without_words_find_nothing(catalog, query):
    page = search("listing", query)
    assert page.total == 0 and page.hits == []


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=300), department=st.text(max_size=20))
def test_any_input_gives_an_answer_not_an_error(catalog, query, department):
    page = search("listing", query, facets={"department": department})
    assert page.total >= len(page.hits) >= 0


@pytest.mark.parametrize("limit, offset", [(-5, -5), (10**6, 0), (0, 0)])
def test_silly_paging_is_clamped(catalog, limit, offset):
    page = search("listing", "营业执照", limit=limit, offset=offset)
    assert page.total == 4


def test_the_query_path_is_one_statement(catalog, settings, django_assert_num_queries):
    settings.YIWANG_SEARCH_VOCABULARY_REFRESH_SECONDS = 3600
    search("listing", "营业执照")
    with django_assert_num_queries(1):
        search("listing", "营业执照")
    with django_assert_num_queries(1):
        search("listing", "", facets={"theme": "birth"})
    with django_assert_num_queries(2):  # every word, then any word
        search("listing", "营业执照 护照")


@pytest.mark.parametrize(
    "facets",
    [{"Department": "1"}, {"a-b": "1"}, {"_kind": "listing"}],
)
def test_index_document_refuses_bad_facet_keys(facets):
    with pytest.raises(ValueError, match="facet key"):
        services.index_document("listing", 1, title="x", keywords=[], body="", facets=facets)
    assert not SearchDocument.objects.exists()


def test_facet_values_are_stored_as_strings():
    services.index_document(
        "listing", 1, title="x", keywords=[], body="", facets={"level": 3, "x": None, "n": [1, 1]}
    )
    assert SearchDocument.objects.get().facets == {"level": "3", "n": ["1"]}
    assert search("listing", "", facets={"level": "3", "n": "1"}).total == 1


@pytest.fixture
def providers(monkeypatch):
    registry = {}
    monkeypatch.setattr(services, "_providers", registry)
    return registry


def test_search_reindex_rebuilds_from_providers(providers, capsys):
    IndexedDocumentFactory(object_id=77, title="已取消的事项")  # stale: the provider drops it
    services.register_provider(
        "listing",
        lambda: [
            services.Document(1, "食品经营许可", ["开饭店"], "", {"department": "12"}),
            {"object_id": 2, "title": "生育登记", "keywords": ["生孩子"]},
        ],
    )
    call_command("search_reindex")
    assert "listing: 2 documents indexed" in capsys.readouterr().out
    assert ids(search("listing", "开饭店")) == [1]
    assert ids(search("listing", "生孩子")) == [2]
    assert search("listing", "已取消").total == 0
    assert services.rebuild() == {"listing": 2}


def test_search_reindex_names_unknown_kinds(providers):
    services.register_provider("listing", list)
    with pytest.raises(CommandError, match="no search provider for hotline; registered: listing"):
        call_command("search_reindex", "hotline")
    with pytest.raises(LookupError):
        services.rebuild("hotline")


# ---------------------------------------------------------------- payload


def test_hits_carry_the_payload_the_provider_stored(catalog):
    services.index_document(
        "listing", 90, title="护照签发", keywords=[], body="", facets={}, payload={"card": "护照"}
    )
    assert [h.payload for h in search("listing", "护照").hits] == [{"card": "护照"}]
    browsed = {h.object_id: h.payload for h in search("listing", "", limit=200).hits}
    assert browsed[90] == {"card": "护照"}
    assert browsed[FOOD] == {}  # indexed without one


def test_reindexing_replaces_the_payload(catalog):
    for card in ({"name": "旧"}, {"name": "新"}):
        services.index_document(
            "listing", 91, title="签证延期", keywords=[], body="", facets={}, payload=card
        )
    assert [h.payload for h in search("listing", "签证").hits] == [{"name": "新"}]


def test_rebuild_stores_provider_payloads(providers):
    services.register_provider(
        "listing",
        lambda: [
            services.Document(1, "食品经营许可", payload={"id": 1, "online": True}),
            {"object_id": 2, "title": "生育登记", "payload": {"id": 2, "days": None}},
        ],
    )
    services.rebuild()
    assert search("listing", "食品").hits[0].payload == {"id": 1, "online": True}
    assert search("listing", "生育").hits[0].payload == {"id": 2, "days": None}
