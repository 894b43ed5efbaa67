"""Tokenization: the same words come out of a document and of a citizen's query."""

import pytest

from yiwang.search import services, text, tokenize
from yiwang.search.models import SearchTerm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "source, present, absent",
    [
        ("食品经营许可", ["食品", "经营", "许可"], []),
        ("营业执照", ["营业执照", "营业", "执照"], []),
        ("个体工商户营业执照设立登记", ["工商户", "营业执照", "设立登记"], []),
        ("怎么办理营业执照？", ["营业执照"], ["怎么", "办理", "？"]),
        ("我要办出生证明", ["出生", "证明"], ["我", "要", "办"]),
        ("ＩＣＰ备案", ["icp", "备案"], ["ＩＣＰ", "ICP"]),
        ("😀营业执照😀", ["营业执照"], ["😀"]),
        ('"营业执照" OR (AND) *', ["营业执照"], ["or", "and", "*", '"', "("]),
        ("under_score", ["under", "score"], ["under_score", "_"]),
    ],
)
def test_tokenize(source, present, absent):
    tokens = tokenize(source)
    for token in present:
        assert token in tokens, f"{token!r} missing from {tokens}"
    for token in absent:
        assert token not in tokens, f"{token!r} should not be in {tokens}"


@pytest.mark.parametrize("source", ["", "   ", "的了吗", "？！。,", "😀🎉", '"*()'])
def test_nothing_searchable_gives_no_tokens(source):
    assert tokenize(source) == []


@pytest.fixture
def fresh_process(monkeypatch):
    """A process whose jieba has learnt nothing yet (like a newly started web worker)."""
    monkeypatch.setattr(text, "_segmenter", text.Segmenter())


def test_indexed_keywords_become_single_tokens_on_both_sides(fresh_process):
    assert "开饭店" not in tokenize("我想开饭店")
    services.index_document(
        "listing", 1, title="食品经营许可", keywords=["开饭店", "生孩子"], body="", facets={}
    )
    assert "开饭店" in tokenize("我想开饭店")
    assert "生孩子" in tokenize("刚生孩子了")
    assert set(SearchTerm.objects.values_list("word", flat=True)) >= {"开饭店", "生孩子"}


def test_a_fresh_process_loads_the_keyword_vocabulary(monkeypatch):
    services.index_document(
        "listing", 1, title="出生医学证明", keywords=["新生儿落户"], body="", facets={}
    )
    monkeypatch.setattr(text, "_segmenter", text.Segmenter())
    assert "新生儿落户" in tokenize("新生儿落户")


def test_words_added_by_another_process_are_picked_up(settings):
    settings.YIWANG_SEARCH_VOCABULARY_REFRESH_SECONDS = 0
    tokenize("预热")
    SearchTerm.objects.create(word="跨省通办件")  # written by another process
    assert "跨省通办件" in tokenize("跨省通办件")


@pytest.mark.parametrize(
    "key, value, term",
    [
        ("department", "12", "department__12"),
        ("item_type", "01", "item_type__01"),
        ("theme", "birth", "theme__birth"),
        ("theme", "open-restaurant", "theme__x_" + b"open-restaurant".hex()),
        ("area", "北京", "area__x_" + "北京".encode().hex()),
        ("code", "ABC", "code__x_" + b"ABC".hex()),
        ("code", "", "code__x_"),
    ],
)
def test_facet_terms_are_exact_single_tokens(key, value, term):
    assert text.facet_term(key, value) == term


@pytest.mark.parametrize("key", ["Department", "_kind", "item__type", "a-b", "部门", "", "x_"])
def test_facet_keys_are_checked(key):
    with pytest.raises(ValueError, match="facet key"):
        text.facet_term(key, "1")
