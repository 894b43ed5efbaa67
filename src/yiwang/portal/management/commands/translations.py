"""`manage.py translations todo|fill FILE.json|check`: keep the English catalogue complete.

manage.py makemessages -l en --ignore=node_modules --ignore=.venv --ignore=var
manage.py translations todo > todo.json      # {"中文原文": "", ...}
(write the English into the values; plurals as ["one", "other"])
manage.py translations fill todo.json
manage.py compilemessages -l en               # commit the .po and the .mo
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.portal import pofile


class Command(BaseCommand):
    help = "List untranslated strings as JSON, fill translations from JSON, or check completeness."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["todo", "fill", "check"])
        parser.add_argument("json_file", nargs="?", help="for fill: {msgid: English}")
        parser.add_argument("--locale", default="en")

    def handle(self, *args, action: str, json_file: str | None, locale: str, **options) -> None:
        po_path = Path(settings.LOCALE_PATHS[0]) / locale / "LC_MESSAGES" / "django.po"
        if not po_path.exists():
            raise CommandError(f"{po_path} does not exist: run makemessages -l {locale} first")
        text = po_path.read_text(encoding="utf-8")
        if action == "todo":
            todo = {key: "" for key in pofile.untranslated(text)}
            self.stdout.write(json.dumps(todo, ensure_ascii=False, indent=1))
        elif action == "check":
            missing = pofile.untranslated(text)
            for key in missing:
                self.stderr.write(key)
            if missing:
                raise CommandError(f"{len(missing)} strings in {po_path.name} lack a translation")
            self.stdout.write("all strings translated")
        else:
            if not json_file:
                raise CommandError("fill needs a JSON file of translations")
            translations = json.loads(Path(json_file).read_text(encoding="utf-8"))
            translations = {k: v for k, v in translations.items() if v}
            new_text, missing = pofile.fill(text, translations)
            po_path.write_text(new_text, encoding="utf-8")
            self.stdout.write(f"filled; {missing} strings still untranslated")
