from django.core.management.base import BaseCommand, CommandError

from yiwang.audit.models import AuditBlock, AuditEvent
from yiwang.audit.services import seal_pending, verify


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; exits non-zero naming every edited or deleted row."

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="seal pending events first")

    def handle(self, *args, seal: bool = False, **options):
        if seal:
            seal_pending()
        findings = verify()
        if findings:
            for finding in findings:
                self.stderr.write(str(finding))
            raise CommandError(f"audit log verification failed: {len(findings)} problem(s)")
        unsealed = AuditEvent.objects.filter(block__isnull=True).count()
        self.stdout.write(
            f"audit log intact: {AuditEvent.objects.count()} events, "
            f"{AuditBlock.objects.count()} blocks, {unsealed} not yet sealed"
        )
