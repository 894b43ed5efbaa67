"""The block `make run` prints: where everything is and how to log in to the demo city."""

import unicodedata
from urllib.parse import urljoin

from django.urls import reverse

from yiwang.demo.loader import DEMO_PASSWORD, accounts, department_rows

ROLE_NAMES = {"intake": "受理", "review": "审查", "decision": "决定", "admin": "部门管理员"}
# Their staff are listed one per line; the other departments' on one line each.
FEATURED_DEPARTMENTS = ("scjg", "mz")
INSTANT_PHONE = "13800000004"  # 王奶奶 (82): 老年人高龄津贴申领 is granted instantly (秒批)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def demo_logins() -> list[tuple[str, str, str]]:
    """(who, login, password) for every demo account, in the order of accounts.yaml."""
    data = accounts()
    names = {row["key"]: row["short_name"] for row in department_rows()}
    rows = [(f"市民 {c['real_name']}(已实名)", c["phone"], DEMO_PASSWORD) for c in data["citizens"]]
    rows += [
        (f"企业经办人 {a['real_name']}({a['company_name']})", a["phone"], DEMO_PASSWORD)
        for a in data["company_agents"]
    ]
    for s in data["staff"]:
        roles = "、".join(ROLE_NAMES[r] for r in s["roles"])
        rows.append(
            (f"{names[s['department']]} {roles} {s['real_name']}", s["username"], DEMO_PASSWORD)
        )
    rows += [
        (f"平台管理员 {a['real_name']}", a["username"], DEMO_PASSWORD)
        for a in data["platform_admins"]
    ]
    return rows


def department_logins() -> list[tuple[str, str]]:
    """(department, "key_intake / _review / _decision") for the non-featured departments."""
    names = {row["key"]: row["short_name"] for row in department_rows()}
    grouped: dict[str, list[str]] = {}
    for s in accounts()["staff"]:
        if s["department"] not in FEATURED_DEPARTMENTS:
            grouped.setdefault(s["department"], []).append(s["username"])
    rows = []
    for key, logins in grouped.items():
        first, *rest = logins
        shorter = [login.removeprefix(key) if login.startswith(key) else login for login in rest]
        rows.append((names[key], " / ".join([first, *shorter])))
    return rows


def render(url: str) -> str:
    base = url if url.endswith("/") else url + "/"
    links = [
        ("门户 Portal", base),
        ("工作台 Console", urljoin(base, "console/")),
        ("API 文档 API docs", urljoin(base, reverse("swagger-ui").lstrip("/"))),
        ("后台 Admin", urljoin(base, reverse("admin:index").lstrip("/"))),
    ]
    grouped = {
        s["username"] for s in accounts()["staff"] if s["department"] not in FEATURED_DEPARTMENTS
    }
    shown = [row for row in demo_logins() if row[1] not in grouped]
    logins = [("角色 Role", "登录名 Login", "密码 Password"), *shown]
    widths = [max(_width(row[i]) for row in logins) for i in range(3)]
    lines = ["示范市 demo city — Yiwang (一网通办) is running", ""]
    lines += [f"  {_pad(label, 20)} {link}" for label, link in links]
    lines += ["", "演示账号 Demo logins (市民、企业用手机号登录 / citizens log in by phone):"]
    for i, row in enumerate(logins):
        lines.append("  " + "  ".join(_pad(cell, widths[n]) for n, cell in enumerate(row)).rstrip())
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines += ["", "其他部门 Other departments (受理 / 审查 / 决定兼部门管理员, same password):"]
    width = max(_width(name) for name, _ in department_logins())
    lines += [f"  {_pad(name, width)}  {logins}" for name, logins in department_logins()]
    lines += [
        "",
        f"秒批 Instant approval: log in as {INSTANT_PHONE} (王奶奶, 82) "
        "and apply for 老年人高龄津贴申领.",
        "电子证照 E-licences: 我的证照 at /licenses/ (张三 holds 结婚证 and more; 李四 a revoked "
        "驾驶证); anyone verifies at /verify/; keys at /.well-known/jwks.json.",
        "12345 热线 Hotline: anyone reports at /hotline/; operators work at /console/hotline/ "
        "(rx_operator, rx_dispatcher); dashboard /console/hotline/dashboard/.",
        "Open311 GeoReport v2: /open311/v2/services.json; demo client key demo-open311-key.",
        "",
        "短信验证码 One-time SMS codes are not sent: the task worker prints them in this",
        "terminal (the worker's console log), as lines starting with 'SMS to <phone>'.",
    ]
    rule = "=" * max(_width(line) for line in lines)
    return "\n".join(["", rule, *lines, rule, ""])
