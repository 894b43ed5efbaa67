from django.core.management.base import BaseCommand, CommandError

from yiwang.search import services


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the registered providers (all kinds, or those named); "
        "run it after bulk loads or when keywords changed how older documents segment."
    )

    def add_arguments(self, parser):
        parser.add_argument("kinds", nargs="*", help="kinds to rebuild (default: all registered)")

    def handle(self, *args, kinds: list[str], **options):
        known = services.registered_kinds()
        unknown = [k for k in kinds if k not in known]
        if unknown:
            registered = ", ".join(known) or "-"
            raise CommandError(
                f"no search provider for {', '.join(unknown)}; registered: {registered}"
            )
        for kind in kinds or known:
            count = services.rebuild(kind)[kind]
            self.stdout.write(f"{kind}: {count} documents indexed")
