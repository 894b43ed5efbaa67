"""Synthetic catalog listings for benchmarks (search over thousands of listings).

Deterministic: listing N is always the same, so loading the same count twice
changes nothing, and a larger count only adds. Synthetic items carry basic
codes starting with "SY" so they are easy to tell from the real demo catalog.
"""

from typing import Any

from yiwang.catalog.exchange import import_catalog
from yiwang.demo.loader import SectionReport, department_rows

LISTINGS_PER_ITEM = 5
SUBJECTS = (
    "烟花爆竹经营",
    "娱乐场所经营",
    "印刷经营",
    "旅馆业特种行业",
    "放射诊疗",
    "母婴保健技术服务",
    "建筑垃圾处置",
    "城市绿地占用",
    "水路运输经营",
    "出版物零售",
    "危险化学品经营",
    "燃气经营",
    "人力资源服务",
    "劳务派遣经营",
    "医疗机构执业",
    "消毒产品生产",
    "三类医疗器械经营",
    "二类医疗器械经营",
    "兽药经营",
    "农药经营",
    "种子生产经营",
    "林木采伐",
    "取水",
    "河道采砂",
    "民用爆炸物品购买",
    "保安服务",
    "机动车维修经营",
    "驾驶员培训",
    "拍卖业务",
    "典当业务",
    "社会办医疗机构设置",
    "校车使用",
    "营业性演出",
    "网吧经营",
    "文物修缮",
    "广播电视节目制作",
    "道路客运经营",
    "出租汽车经营",
    "公共场所控烟",
    "临时救助",
    "孤儿基本生活保障",
    "优待证办理",
)
ACTIONS = (
    ("许可", "01"),
    ("许可变更", "01"),
    ("许可延续", "01"),
    ("许可注销", "01"),
    ("备案", "10"),
    ("核准", "01"),
    ("登记", "07"),
    ("证明开具", "20"),
    ("补助申领", "05"),
    ("信息查询", "20"),
)
KEYWORDS = ("办证", "审批", "申请", "证照", "资质")


def _departments() -> list[dict[str, Any]]:
    """Every implementing department except the two governments (they implement nothing here)."""
    return [row for row in department_rows() if row["key"] not in {"gov", "dc"}]


def synthetic_catalog(listings: int) -> dict[str, Any]:
    departments = _departments()
    items = []
    for n in range((listings + LISTINGS_PER_ITEM - 1) // LISTINGS_PER_ITEM):
        subject = SUBJECTS[n % len(SUBJECTS)]
        action, item_type = ACTIONS[(n // len(SUBJECTS)) % len(ACTIONS)]
        series = n // (len(SUBJECTS) * len(ACTIONS))
        basic_code = f"SY{n:010d}"
        count = min(LISTINGS_PER_ITEM, listings - n * LISTINGS_PER_ITEM)
        chosen = [departments[(n + k * 7) % len(departments)] for k in range(count)]
        statutory = 5 + (n % 6) * 5
        conditions = f"申请{subject}{action}的单位或个人,符合相关法律法规规定的条件。"
        items.append(
            {
                "basic_code": basic_code,
                "name": f"{subject}{action}" + (f"(第{series + 1}类)" if series else ""),
                "item_type": item_type,
                "levels": sorted({d["level"] for d in chosen}),
                "legal_basis": "《中华人民共和国行政许可法》(合成测试数据)",
                "service_objects": ["1", "2"],
                "keywords": [subject, KEYWORDS[n % len(KEYWORDS)]],
                "themes": [],
                "listings": [
                    {
                        "department": d["credit_code"],
                        "level": d["level"],
                        "case_kind": "2",
                        "statutory_days": statutory,
                        "committed_days": statutory // 2,
                        "conditions": conditions,
                        "process_steps": ["申请", "受理", "审查", "决定"],
                        "handling_unit": d["name"],
                        "result_name": f"{subject}{action}决定书",
                        "online": True,
                        "handling_forms": ["1", "2"],
                        "location": d["address"],
                        "hours": d["office_hours"],
                        "phone": d["phone"],
                        "supervision_phone": d["supervision_phone"],
                        "materials": [
                            {
                                "name": "申请书",
                                "issuer": "申请人自备",
                                "originals": 1,
                                "copies": 0,
                                "required": True,
                            },
                            {
                                "name": "申请人身份证明",
                                "issuer": "公安机关",
                                "originals": 0,
                                "copies": 1,
                                "required": True,
                            },
                        ],
                    }
                    for d in chosen
                ],
            }
        )
    return {"format": "yiwang-catalog/1", "themes": [], "items": items, "power_items": []}


def load_synthetic(listings: int) -> SectionReport:
    result = import_catalog(synthetic_catalog(listings), None)
    report = SectionReport(f"synthetic listings ({listings})")
    report.counts["created"] = result.created["listings"]
    report.counts["updated"] = result.updated["listings"]
    report.counts["unchanged"] = result.unchanged["listings"]
    return report
