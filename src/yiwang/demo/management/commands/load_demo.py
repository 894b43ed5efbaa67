import time

from django.core.management.base import BaseCommand

from yiwang.demo import loader


class Command(BaseCommand):
    help = (
        "Load the demo city (示范市): departments, catalog, demo accounts, processes, online "
        "forms, demo cases and 12345 tickets. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--listings",
            type=int,
            default=0,
            metavar="N",
            help="also load N synthetic listings (benchmarks; e.g. 5000 for the search benchmark)",
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=None,
            metavar="N",
            help="demo cases to create on the first load (default 300; 0 for none)",
        )
        parser.add_argument(
            "--tickets",
            type=int,
            default=None,
            metavar="N",
            help="historical 12345 tickets to import on the first load, to train routing on "
            "(default 20000; 0 for none)",
        )

    def handle(self, *args, listings: int, cases: int | None, tickets: int | None, **options):
        from yiwang.demo.cases import DEFAULT_COUNT
        from yiwang.demo.hotline_tickets import DEFAULT_HISTORY

        started = time.monotonic()
        for report in loader.load_all(
            cases=DEFAULT_COUNT if cases is None else cases,
            tickets=DEFAULT_HISTORY if tickets is None else tickets,
        ):
            self.stdout.write(str(report))
        if listings:
            from yiwang.demo.synthetic import load_synthetic

            self.stdout.write(str(load_synthetic(listings)))
        self.stdout.write(f"demo loaded in {time.monotonic() - started:.1f} s")
