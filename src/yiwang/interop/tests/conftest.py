"""An Open311 world: the hotline test world (a 12345 centre, a street-light category handled
by the city-management bureau), that category's attributes, and a client key."""

from dataclasses import dataclass
from typing import Any

import pytest

from yiwang.hotline.tests.factories import World, make_world
from yiwang.identity.tests.factories import PlatformAdminFactory
from yiwang.interop import services
from yiwang.interop.models import Open311Client

BASE = "/open311/v2/"
KEY = "test-open311-key-0001"


@dataclass
class Open311World:
    hotline: World
    client: Open311Client
    key: str
    admin: Any

    @property
    def code(self) -> str:
        return self.hotline.category.code

    def form(self, **changes: Any) -> dict[str, Any]:
        """A complete, valid POST Service Request."""
        return {
            "api_key": self.key,
            "service_code": self.code,
            "lat": "26.074",
            "long": "119.296",
            "address_string": "示范市东城区东湖路 12 号",
            "description": "东湖路 12 号门口的路灯连续三晚不亮",
            "first_name": "三",
            "last_name": "张",
            "phone": "13800000001",
            "email": "zhangsan@example.cn",
            "attribute[pole_number]": "LD-0123",
            "attribute[fault]": "1",
            **changes,
        }


@pytest.fixture
def o311(settings) -> Open311World:
    world = make_world(settings)
    admin = PlatformAdminFactory()
    for order, data in enumerate(
        [
            {
                "code": "pole_number",
                "datatype": "string",
                "required": True,
                "description": "灯杆编号",
                "datatype_description": "灯杆上喷涂的编号",
            },
            {
                "code": "fault",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "故障情况",
                "values": [{"key": "1", "name": "整晚不亮"}, {"key": "2", "name": "时亮时灭"}],
            },
            {
                "code": "nearby",
                "datatype": "multivaluelist",
                "description": "附近设施",
                "values": [{"key": "school", "name": "学校"}, {"key": "road", "name": "主干道"}],
            },
            {"code": "width", "datatype": "number", "description": "路面宽度(米)"},
            {"code": "seen_at", "datatype": "datetime", "description": "发现时间"},
            {"code": "notes", "datatype": "text", "description": "补充说明"},
        ],
        start=1,
    ):
        services.save_attribute(admin, {**data, "category": world.category, "order": order})
    client, key = services.issue_key(admin, "街道随手拍", "王工 13900000009", key=KEY)
    return Open311World(hotline=world, client=client, key=key, admin=admin)
