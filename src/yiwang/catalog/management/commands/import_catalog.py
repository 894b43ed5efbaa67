import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.catalog.exchange import CatalogImportError, import_catalog, import_catalog_csv


class Command(BaseCommand):
    help = "导入政务服务事项目录(JSON 文件,或 CSV 的 zip 包/目录);全部校验通过才写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="catalog.json, catalog.zip or a directory of CSV files")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"文件不存在:{path}")
        try:
            if path.is_dir() or path.suffix.lower() == ".zip":
                report = import_catalog_csv(path)
            else:
                try:
                    data = json.loads(path.read_text(encoding="utf-8-sig"))
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise CommandError(f"{path} 不是有效的 UTF-8 JSON 文件:{exc}") from exc
                report = import_catalog(data)
        except CatalogImportError as exc:
            lines = [f"{where}: {msg}" for where, msgs in exc.errors.items() for msg in msgs]
            raise CommandError(f"目录未导入,共 {len(lines)} 处错误:\n" + "\n".join(lines)) from exc
        self.stdout.write(self.style.SUCCESS(f"目录已导入:{report}"))
