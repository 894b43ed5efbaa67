"""`manage.py check` (and every start) refuses a broken override file before a deadline needs it."""

from django.core import checks

from yiwang.calendar.overrides import OverrideFileError, file_overrides


@checks.register()
def check_override_file(app_configs, **kwargs) -> list[checks.CheckMessage]:
    try:
        file_overrides()
    except OverrideFileError as exc:
        return [checks.Error(str(exc), hint="见 docs/calendar.md 的文件格式", id="calendar.E001")]
    return []
