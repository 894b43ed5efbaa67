"""Generated demo applicants: citizens and companies that fill the demo cases.

They are registered and real-name verified through the identity services like
the named demo accounts (they can log in with the demo password), with ID
numbers and credit codes that carry valid check characters. The same list
every time, so loading twice creates nobody new.
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from yiwang.demo.loader import SectionReport, _ensure_person
from yiwang.identity.models import User
from yiwang.identity.validators import credit_check_char, id_check_char

REGION = "359902"  # 示范市东城区 (fictional, well-formed)

# (name, birth date, female): a few elderly residents apply for the 高龄津贴 (秒批).
CITIZENS = [
    ("陈建国", dt.date(1972, 4, 18), False),
    ("刘芳", dt.date(1988, 9, 3), True),
    ("赵磊", dt.date(1993, 1, 27), False),
    ("孙悦", dt.date(1996, 11, 9), True),
    ("周海燕", dt.date(1981, 6, 30), True),
    ("吴强", dt.date(1977, 12, 5), False),
    ("郑晓明", dt.date(1990, 2, 14), False),
    ("杨帆", dt.date(1984, 5, 19), False),
    ("朱丽", dt.date(1992, 8, 8), True),
    ("胡志军", dt.date(1969, 10, 1), False),
    ("高婷", dt.date(1999, 3, 23), True),
    ("林淑芬", dt.date(1958, 8, 21), True),  # 68: 高龄津贴 规则2
    ("黄德福", dt.date(1939, 5, 2), False),  # 87: 规则1
    ("李秀珍", dt.date(1945, 10, 16), True),  # 81: 规则1
]
# (company, agent name, agent birth date, organization-code part of the credit code)
COMPANIES = [
    ("示范市宏建建筑工程有限公司", "徐志刚", dt.date(1979, 3, 11), "MA2Y9C4R1"),
    ("示范市东湖鲜食餐饮管理有限公司", "何丽萍", dt.date(1986, 7, 25), "MA2Y9D7K3"),
    ("示范市云帆信息科技有限公司", "蒋涛", dt.date(1991, 12, 2), "MA2Y9F2N6"),
]


def id_number(birth: dt.date, serial: int, female: bool) -> str:
    """A 居民身份证号码 with a valid GB 11643 check character; the 17th digit gives the sex."""
    sequence = serial * 2 + (0 if female else 1)
    body = f"{REGION}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + id_check_char(body)


def credit_code(org: str) -> str:
    body = f"91{REGION}{org}"
    return body + credit_check_char(body)


def citizen_rows() -> Iterator[dict[str, Any]]:
    for n, (name, birth, female) in enumerate(CITIZENS):
        yield {
            "real_name": name,
            "phone": f"138000001{n:02d}",
            "id_number": id_number(birth, 40 + n, female),
        }


def company_rows() -> Iterator[dict[str, Any]]:
    for n, (company, agent, birth, org) in enumerate(COMPANIES):
        yield {
            "real_name": agent,
            "phone": f"138000002{n:02d}",
            "id_number": id_number(birth, 70 + n, False),
            "company_name": company,
            "credit_code": credit_code(org),
        }


@transaction.atomic
def load_people() -> tuple[SectionReport, list[User], list[User]]:
    """The generated citizens and company agents, registered and verified."""
    report = SectionReport("demo applicants")
    citizens = [_ensure_person(row, report) for row in citizen_rows()]
    companies = [
        _ensure_person(
            row, report, company_name=row["company_name"], credit_code=row["credit_code"]
        )
        for row in company_rows()
    ]
    return report, citizens, companies
