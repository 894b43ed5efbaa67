from django.core.management.base import BaseCommand

from yiwang.demo.banner import render


class Command(BaseCommand):
    help = "Print the demo URLs and logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options):
        self.stdout.write(render(url))
