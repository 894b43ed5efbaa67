from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    verbose_name = _("办件")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from yiwang.cases import services
        from yiwang.common.schedule import every
        from yiwang.workflow.models import ProcessDefinition

        post_save.connect(services.forget_branches, sender=ProcessDefinition)

        # Hourly, but each case is escalated at most once a day (Case.escalated_on).
        every(3600.0, "cases.escalate")(services.escalate_overdue)
        every(6 * 3600.0, "cases.orphan_files")(services.remove_orphan_files)
