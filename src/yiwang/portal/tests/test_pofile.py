"""The .po helper used to refresh the English catalogue."""

from yiwang.portal import pofile

SAMPLE = """msgid ""
msgstr ""
"Language: en\\n"

#: a.py:1
msgid "首页"
msgstr ""

#: a.py:2
#, fuzzy, python-format
#| msgid "旧的 %(n)s"
msgid "第 %(n)s 页"
msgstr "Old %(n)s"

#: a.py:3
msgid "已翻译"
msgstr "Done"

#: a.py:4
msgctxt "button"
msgid "提交"
msgstr ""

#: a.py:5
msgid "一条"
msgid_plural "%(n)s 条"
msgstr[0] ""
msgstr[1] ""

#: a.py:6
msgid ""
"长的"
"句子"
msgstr ""
"""


def test_untranslated_lists_empty_fuzzy_context_and_plural_entries():
    assert pofile.untranslated(SAMPLE) == {
        "首页": "",
        "第 %(n)s 页": "",
        "button\x04提交": "",
        "一条": "%(n)s 条",
        "长的句子": "",
    }


def test_fill_writes_translations_and_clears_fuzzy():
    text, missing = pofile.fill(
        SAMPLE,
        {
            "首页": "Home",
            "第 %(n)s 页": "Page %(n)s",
            "button\x04提交": "Submit",
            "一条": ["one item", "%(n)s items"],
        },
    )
    assert missing == 1  # 长的句子
    assert 'msgid "首页"\nmsgstr "Home"' in text
    assert "fuzzy" not in text
    assert "#, python-format" in text
    assert "#|" not in text
    assert 'msgstr[0] "one item"\nmsgstr[1] "%(n)s items"' in text
    assert 'msgstr "Done"' in text  # existing translations are kept
    assert pofile.untranslated(text) == {"长的句子": ""}


def test_fill_escapes_quotes_and_newlines():
    text, _ = pofile.fill('msgid "引号"\nmsgstr ""\n', {"引号": 'say "hi"\nbye'})
    assert 'msgstr "say \\"hi\\"\\nbye"' in text
