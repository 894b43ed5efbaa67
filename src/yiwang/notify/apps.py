from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "yiwang.notify"
    verbose_name = "消息通知"

    def ready(self) -> None:
        from yiwang.common.schedule import every
        from yiwang.notify import services

        every(1.0, "notify.outbox")(services.deliver_due)
