from django.core.management.base import BaseCommand

from yiwang.demo import loader


class Command(BaseCommand):
    help = "Load the demo city (示范市): departments, catalog, demo accounts. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument(
            "--listings",
            type=int,
            default=0,
            metavar="N",
            help="also load N synthetic listings (benchmarks; e.g. 5000 for the search benchmark)",
        )

    def handle(self, *args, listings: int, **options):
        for report in loader.load_all():
            self.stdout.write(str(report))
        if listings:
            from yiwang.demo.synthetic import load_synthetic

            self.stdout.write(str(load_synthetic(listings)))
