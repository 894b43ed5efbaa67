"""Demo Open311: the key `demo-open311-key` (docs/open311.md) and the extra questions of a
few services, created through `interop.services` like an administrator would. Needs the
12345 categories (`hotline.load_categories`) first; safe to run twice."""

from django.db import transaction

from yiwang.demo.loader import SectionReport
from yiwang.hotline.models import Category
from yiwang.identity.models import User
from yiwang.interop import services
from yiwang.interop.models import Open311Attribute, Open311Client

DEMO_KEY = "demo-open311-key"
DEMO_CLIENT = "示范市 Open311 演示客户端"


def _options(*names: str) -> list[dict[str, str]]:
    return [{"key": str(n), "name": name} for n, name in enumerate(names, start=1)]


# category code → its attributes, in order.
ATTRIBUTES: dict[str, list[dict]] = {
    "0101": [  # 路灯不亮或损坏
        {
            "code": "pole_number",
            "datatype": "string",
            "required": True,
            "description": "灯杆编号",
            "datatype_description": "灯杆上喷涂的编号,如 LD-0123;看不清请填“不清楚”",
        },
        {
            "code": "fault",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "故障情况",
            "values": _options("整晚不亮", "时亮时灭", "白天常亮", "灯杆倾斜或损坏"),
        },
    ],
    "0105": [  # 井盖缺失或破损
        {
            "code": "cover_kind",
            "datatype": "singlevaluelist",
            "required": False,
            "description": "井盖类别",
            "datatype_description": "井盖上通常印有“污水”“雨水”“电力”等字样",
            "values": _options("污水", "雨水", "电力", "通信", "燃气", "不清楚"),
        },
        {
            "code": "danger",
            "datatype": "string",
            "required": False,
            "variable": False,
            "description": "如有人员或车辆掉落,请立即拨打 110 或 119",
        },
    ],
    "0203": [  # 道路破损坑洼
        {
            "code": "lanes",
            "datatype": "multivaluelist",
            "required": True,
            "description": "影响的道路部分",
            "values": _options("机动车道", "非机动车道", "人行道"),
        },
        {
            "code": "size",
            "datatype": "number",
            "required": False,
            "description": "坑洼大约多宽(米)",
        },
    ],
    "0104": [  # 垃圾清运不及时
        {
            "code": "seen_at",
            "datatype": "datetime",
            "required": False,
            "description": "最早发现的时间",
        },
    ],
    "0301": [  # 噪声扰民
        {
            "code": "source",
            "datatype": "multivaluelist",
            "required": True,
            "description": "噪声来源",
            "values": _options("建筑施工", "商业经营", "广场舞或娱乐", "交通", "其他"),
        },
        {
            "code": "hours",
            "datatype": "text",
            "required": False,
            "description": "噪声出现的时段",
            "datatype_description": "如:每晚 22 点至次日 2 点",
        },
    ],
}


@transaction.atomic
def load_open311() -> SectionReport:
    report = SectionReport("Open311")
    admin = User.objects.get(username="admin")
    if Open311Client.objects.filter(key_hash=services.key_hash(DEMO_KEY)).exists():
        report.counts["unchanged"] += 1
    else:
        services.issue_key(admin, DEMO_CLIENT, "示范市12345热线中心 接口对接组", key=DEMO_KEY)
        report.counts["created"] += 1
    for code, attributes in ATTRIBUTES.items():
        category = Category.objects.get(code=code)
        for order, data in enumerate(attributes, start=1):
            if Open311Attribute.objects.filter(category=category, code=data["code"]).exists():
                report.counts["unchanged"] += 1
                continue
            services.save_attribute(admin, {**data, "category": category, "order": order})
            report.counts["created"] += 1
    return report
