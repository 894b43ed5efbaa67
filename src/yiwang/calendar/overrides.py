"""Local calendar overrides: a YAML file plus the `CalendarOverride` table (DB wins).

The file is how a whole new year enters the calendar the day the State Council
publishes it (docs/calendar.md); the table is for single dates an administrator
corrects in Django admin. Both are read once per process and reloaded when the
file's mtime/size or the table's (row count, latest update) fingerprint changes,
so every process sees an edit — not only the one that made it — and a rolled-back
edit is never remembered.
"""

import datetime as dt
import logging
import re
from pathlib import Path

import yaml
from django.conf import settings
from django.db.models import Count, Max

from yiwang.calendar.workdays import PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR, CalendarOverrides

log = logging.getLogger("yiwang.calendar")

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "overrides.yaml"
KEYS = ("years", "holidays", "workdays")
MAX_RANGE_DAYS = 31
_RANGE = re.compile(r"^\s*(\S+)\s*\.\.\s*(\S+)\s*$")


class OverrideFileError(ValueError):
    """The override file is wrong; `errors` lists each problem with its line."""

    def __init__(self, path: Path | str, errors: list[str]) -> None:
        self.path = str(path)
        self.errors = errors
        super().__init__(f"日历覆盖文件 {path} 有误:\n" + "\n".join(errors))


def override_file_path() -> Path:
    return Path(settings.YIWANG_CALENDAR_FILE or DEFAULT_FILE)


def _where(node: yaml.Node, field: str) -> str:
    return f"第 {node.start_mark.line + 1} 行 {field}"


def _parse_date(text: str) -> dt.date:
    value = dt.date.fromisoformat(text.strip())
    if len(text.strip()) != 10:  # fromisoformat also takes 20270101
        raise ValueError(text)
    return value


def _dates(node: yaml.ScalarNode, field: str, errors: list[str]) -> list[dt.date]:
    text = node.value
    match = _RANGE.match(text)
    try:
        if not match:
            return [_parse_date(text)]
        first, last = _parse_date(match[1]), _parse_date(match[2])
    except ValueError:
        errors.append(
            f"{_where(node, field)}:“{text}”不是有效日期,"
            f"请写成 2027-01-01 或区间 2027-10-01..2027-10-07"
        )
        return []
    span = (last - first).days
    if not 0 <= span < MAX_RANGE_DAYS:
        errors.append(f"{_where(node, field)}:区间“{text}”应从早到晚且不超过 {MAX_RANGE_DAYS} 天")
        return []
    return [first + dt.timedelta(days=i) for i in range(span + 1)]


def parse_overrides(text: str, path: Path | str = "<text>") -> CalendarOverrides:
    """Validate and read the override format; every problem is reported with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"第 {mark.line + 1} 行" if mark else "文件"
        raise OverrideFileError(path, [f"{line}:不是有效的 YAML({exc})"]) from exc
    if root is None:
        return CalendarOverrides()
    if not isinstance(root, yaml.MappingNode):
        raise OverrideFileError(path, [f"{_where(root, '顶层')}:应为 years/holidays/workdays 三项"])

    errors: list[str] = []
    seen: dict[str, yaml.Node] = {}
    for key_node, value_node in root.value:
        key = key_node.value
        if key not in KEYS:
            errors.append(f"{_where(key_node, key)}:未知字段,只允许 {'、'.join(KEYS)}")
        elif key in seen:
            errors.append(f"{_where(key_node, key)}:字段重复")
        elif not (
            isinstance(value_node, yaml.SequenceNode)
            or (isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "null", "~"))
        ):
            errors.append(f"{_where(value_node, key)}:应为列表,如 {key}: [...]")
        else:
            seen[key] = value_node

    def items(key: str) -> list[yaml.Node]:
        node = seen.get(key)
        return list(node.value) if isinstance(node, yaml.SequenceNode) else []

    years: dict[int, yaml.Node] = {}
    for node in items("years"):
        if (
            isinstance(node, yaml.ScalarNode)
            and node.value.isdigit()
            and 1949 < int(node.value) < 2200
        ):
            years[int(node.value)] = node
        else:
            errors.append(
                f"{_where(node, 'years')}:“{getattr(node, 'value', '')}”不是年份,请写如 2027"
            )

    days: dict[dt.date, bool] = {}
    for key, working in (("holidays", False), ("workdays", True)):
        for node in items(key):
            if not isinstance(node, yaml.ScalarNode):
                errors.append(f"{_where(node, key)}:每项应为一个日期或日期区间")
                continue
            for day in _dates(node, key, errors):
                if day in days and days[day] != working:
                    errors.append(f"{_where(node, key)}:{day} 同时出现在 holidays 和 workdays 中")
                elif not PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR and (
                    day.year not in years
                ):
                    errors.append(
                        f"{_where(node, key)}:{day} 所在的 {day.year} 年不在内置日历"
                        f"({PACKAGE_FIRST_YEAR}—{PACKAGE_LAST_YEAR} 年)中,"
                        f"请在 years 中声明 {day.year} 年并列出该年全部节假日"
                    )
                else:
                    days[day] = working

    holiday_years = {day.year for day, working in days.items() if not working}
    for year, node in years.items():
        if year not in holiday_years:
            errors.append(
                f"{_where(node, 'years')}:声明了 {year} 年,但 holidays 中没有该年的日期;"
                f"请按国务院办公厅通知列出该年全部放假日期"
            )
    if errors:
        raise OverrideFileError(path, errors)
    return CalendarOverrides(days, frozenset(years))


def load_override_file(path: Path | str) -> CalendarOverrides:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OverrideFileError(path, [f"无法读取文件({exc.strerror})"]) from exc
    return parse_overrides(text, path)


_file_cache: tuple[tuple, CalendarOverrides] | None = None
_merged_cache: tuple[tuple, CalendarOverrides] | None = None


def _file_key(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def _cached_file() -> tuple[tuple, CalendarOverrides]:
    """A broken edit of a file that loaded before keeps the last good content (and logs
    the errors), so one typo does not stop every deadline computation; the system check
    and a fresh process still refuse the broken file."""
    global _file_cache
    path = override_file_path()
    key = _file_key(path)
    if _file_cache is None or _file_cache[0] != key:
        try:
            _file_cache = (key, load_override_file(path))
        except OverrideFileError:
            if _file_cache is None or _file_cache[0][0] != str(path):
                raise
            log.exception("calendar override file %s is invalid; keeping the last good one", path)
            _file_cache = (key, _file_cache[1])
    return _file_cache


def file_overrides() -> CalendarOverrides:
    """The override file's content, reread only when the file changes."""
    return _cached_file()[1]


def current_overrides() -> CalendarOverrides:
    """File overrides with database overrides on top: pass this to the `workdays` functions.

    Costs one small aggregate query when nothing changed. Returns a fresh copy, so
    callers may not disturb the cache.
    """
    global _merged_cache
    from yiwang.calendar.models import CalendarOverride

    file_key, base = _cached_file()
    fingerprint = CalendarOverride.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    key = (file_key, fingerprint["n"], fingerprint["last"])
    if _merged_cache is None or _merged_cache[0] != key:
        merged = dict(base)
        merged.update(CalendarOverride.objects.values_list("date", "is_working_day"))
        _merged_cache = (key, CalendarOverrides(merged, base.years))
    cached = _merged_cache[1]
    return CalendarOverrides(cached, cached.years)
