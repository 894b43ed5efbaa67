"""Seals for tests, made through services.create_seal like the real thing.

`SealFactory(department=d, suite="Ed25519")`; pass `picture_png=None` to have the
picture drawn (slower), otherwise a tiny fixed PNG is used.
"""

import datetime as dt
import io
from functools import cache

import factory
from django.utils import timezone
from PIL import Image

from yiwang.identity.models import User
from yiwang.identity.tests.factories import DepartmentFactory, StaffFactory
from yiwang.seals import services
from yiwang.seals.models import Seal


@cache
def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (220, 20, 30, 255)).save(out, format="PNG")
    return out.getvalue()


def superuser() -> User:
    user = User.objects.filter(username="seal-root").first()
    return user or StaffFactory(username="seal-root", is_superuser=True, is_staff=True)


class SealFactory(factory.Factory):
    class Meta:
        model = Seal

    department = factory.SubFactory(DepartmentFactory, region_code="350102")
    name = factory.LazyAttribute(lambda o: o.department.name)
    kind = Seal.Kind.OFFICIAL
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))
    suite = "SM2-SM3"
    picture_png = factory.LazyFunction(tiny_png)

    @classmethod
    def _create(cls, model_class, department, actor=None, **kwargs):
        return services.create_seal(actor or superuser(), department, **kwargs)
