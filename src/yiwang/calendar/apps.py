from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "yiwang.calendar"
    label = "calendar"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from yiwang.calendar import checks  # noqa: F401  registers the override file check
