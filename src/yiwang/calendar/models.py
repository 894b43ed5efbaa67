"""Single-date corrections to the working-day calendar, edited in Django admin."""

from django.core.exceptions import ValidationError
from django.db import models

from yiwang.calendar.workdays import PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR

WEEKDAYS = "一二三四五六日"


class CalendarOverride(models.Model):
    """One date whose status differs from the official table; wins over the override file."""

    date = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField(
        "上班", default=False, help_text="勾选表示该日上班(如调休上班日);不勾选表示该日放假。"
    )
    source = models.CharField(
        "依据", max_length=200, help_text="发布该安排的文件,如“国办发明电〔2026〕1号”。"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = "日历调整"
        verbose_name_plural = "日历调整"

    def __str__(self) -> str:
        status = "上班" if self.is_working_day else "放假"
        return f"{self.date} 星期{WEEKDAYS[self.date.weekday()]} {status}"

    def clean(self) -> None:
        from yiwang.calendar.overrides import file_overrides

        if not self.date or PACKAGE_FIRST_YEAR <= self.date.year <= PACKAGE_LAST_YEAR:
            return
        if self.date.year not in file_overrides().years:
            year = self.date.year
            raise ValidationError(
                {
                    "date": (
                        f"{year} 年不在内置日历({PACKAGE_FIRST_YEAR}—{PACKAGE_LAST_YEAR} 年)中,"
                        f"单独调整一天无法算出期限。请先在日历覆盖文件中声明 {year} 年"
                        f"并列出该年全部节假日(见 docs/calendar.md)。"
                    )
                }
            )
