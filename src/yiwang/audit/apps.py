from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "yiwang.audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from django.conf import settings

        from yiwang.audit import services
        from yiwang.common.schedule import every

        every(settings.YIWANG_AUDIT_SEAL_SECONDS, "audit.seal")(services.seal_pending)
