"""Read and fill gettext .po files without extra packages (gettext tools may be absent).

Used by `manage.py translations` so that refreshing the English catalogue after
new Chinese strings appear is: makemessages → `translations todo` → translate
the JSON → `translations fill` → compilemessages.
"""

import ast
import re
from dataclasses import dataclass, field

_KEY = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


@dataclass
class Entry:
    """One block of a .po file, with the line span of each keyword so it can be rewritten."""

    lines: list[str]
    values: dict[str, str] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """msgid, prefixed by its context as gettext does (context \\x04 msgid)."""
        if "msgid" not in self.values or self.values["msgid"] == "":
            return None
        if "msgctxt" in self.values:
            return self.values["msgctxt"] + "\x04" + self.values["msgid"]
        return self.values["msgid"]

    @property
    def fuzzy(self) -> bool:
        return any(line.startswith("#,") and "fuzzy" in line for line in self.lines)

    @property
    def translated(self) -> bool:
        strings = [v for k, v in self.values.items() if k.startswith("msgstr")]
        return bool(strings) and all(strings) and not self.fuzzy


def _parse_entry(block: str) -> Entry:
    entry = Entry(lines=block.split("\n"))
    parts: dict[str, list[str]] = {}
    current = None
    for index, line in enumerate(entry.lines):
        match = _KEY.match(line)
        if match:
            current = match.group(1)
            parts[current] = [match.group(2)]
            entry.spans[current] = (index, index)
        elif line.startswith('"') and current:
            parts[current].append(line)
            entry.spans[current] = (entry.spans[current][0], index)
        else:
            current = None
    entry.values = {k: "".join(ast.literal_eval(q) for q in v) for k, v in parts.items()}
    return entry


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


def parse(text: str) -> list[Entry]:
    return [_parse_entry(block) for block in text.rstrip("\n").split("\n\n")]


def untranslated(text: str) -> dict[str, str]:
    """{msgid: msgid_plural or ""} for every entry still lacking a translation."""
    return {
        e.key: e.values.get("msgid_plural", "")
        for e in parse(text)
        if e.key is not None and not e.translated
    }


def fill(text: str, translations: dict[str, str | list[str]]) -> tuple[str, int]:
    """Write translations into empty or fuzzy entries; returns (new text, still untranslated)."""
    out, missing = [], 0
    for entry in parse(text):
        key = entry.key
        if key is None or (entry.translated and key not in translations):
            out.append("\n".join(entry.lines))
            continue
        if key not in translations:
            missing += 1
            out.append("\n".join(entry.lines))
            continue
        msgstr_lines = {
            i
            for k, (a, b) in entry.spans.items()
            if k.startswith("msgstr")
            for i in range(a, b + 1)
        }
        kept = []
        for index, line in enumerate(entry.lines):
            if index in msgstr_lines or line.startswith("#|"):
                continue
            if line.startswith("#,"):
                flags = [f.strip() for f in line[2:].split(",") if f.strip() != "fuzzy"]
                if flags:
                    kept.append("#, " + ", ".join(flags))
                continue
            kept.append(line)
        value = translations[key]
        if "msgid_plural" in entry.values:
            forms = value if isinstance(value, list) else [value, value]
            kept += [f"msgstr[{n}] {_quote(form)}" for n, form in enumerate(forms)]
        else:
            kept.append("msgstr " + _quote(value if isinstance(value, str) else value[0]))
        out.append("\n".join(kept))
    return "\n\n".join(out) + "\n", missing
