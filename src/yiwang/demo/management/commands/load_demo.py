from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo city (示范市); safe to run twice."

    def handle(self, *args, **options):
        self.stdout.write("demo city: nothing to load yet")
