from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "yiwang.hotline"
    verbose_name = _("12345 热线")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from yiwang.common.schedule import every
        from yiwang.hotline import catalogue, services
        from yiwang.identity.models import Department
        from yiwang.search.services import register_provider

        post_save.connect(services.forget_centre, sender=Department, dispatch_uid="hotline-centre")
        post_delete.connect(
            services.forget_centre, sender=Department, dispatch_uid="hotline-centre-"
        )

        register_provider(catalogue.CATEGORY_KIND, catalogue.category_documents)
        register_provider(catalogue.ARTICLE_KIND, catalogue.article_documents)
        every(600.0, "hotline.escalate")(services.escalate_overdue)
        every(6 * 3600.0, "hotline.orphan_files")(services.remove_orphan_files)
