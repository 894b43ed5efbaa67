import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.catalog.exchange import export_catalog, export_catalog_csv


class Command(BaseCommand):
    help = "导出政务服务事项目录:JSON(yiwang-catalog/1)或 CSV 的 zip 包。"

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("-o", "--output", help="output file (default: standard output)")

    def handle(self, *args, **options):
        if options["format"] == "csv":
            if not options["output"]:
                raise CommandError("CSV 导出为 zip 包,请用 -o 指定输出文件")
            Path(options["output"]).write_bytes(export_catalog_csv())
            return
        text = json.dumps(export_catalog(), ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
