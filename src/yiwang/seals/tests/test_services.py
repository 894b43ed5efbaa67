"""Making and changing seals: permissions, bad input, audit, rotation, revocation."""

import base64
import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.crypto import signing
from yiwang.crypto.models import StoredKey
from yiwang.crypto.sm import sm3_hex
from yiwang.seals import services
from yiwang.seals.models import Seal, SealKey, SealMaker
from yiwang.seals.services import SealError
from yiwang.seals.tests.factories import SealFactory, tiny_png

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _events(action):
    return list(AuditEvent.objects.filter(action=action))


def _args(**over):
    args = {
        "name": "示范市测试局",
        "kind": "official",
        "valid_from": TODAY(),
        "valid_until": TODAY() + dt.timedelta(days=365),
        "picture_png": tiny_png(),
    }
    args.update(over)
    return args


# ---------------------------------------------------------------- create


def test_create_seal_writes_seal_key_signed_info_and_one_audit_event(admin, department):
    seal = services.create_seal(admin, department, **_args())
    key = seal.keys.get()
    assert seal.es_id == f"350102ES{seal.pk:08d}"
    info = json.loads(seal.seal_info)
    assert info["header"] == {"id": "ES", "version": 4, "vid": "yiwang"}
    assert info["esID"] == seal.es_id
    assert info["property"]["certList"] == [key.key_id]
    assert info["property"]["certListType"] == "key-id"
    assert info["picture"] == {"type": "png", "sm3": sm3_hex(tiny_png()), "width": 42, "height": 42}
    assert seal.seal_info == services.canonical(info).decode()
    maker = SealMaker.objects.get(active=True)
    assert signing.verify(
        maker.suite,
        bytes(maker.public_der),
        seal.seal_info.encode(),
        base64.b64decode(seal.maker_signature),
    )
    assert StoredKey.objects.filter(handle=key.handle).exists()
    [event] = _events("seals.create_seal")
    assert event.actor_id == admin.pk and event.department_id == department.pk
    assert event.after["key_id"] == key.key_id
    assert "picture" not in event.after


def test_the_seal_maker_is_made_once(department):
    SealFactory(department=department)
    SealFactory(department=department)
    assert SealMaker.objects.count() == 1
    assert len({s.maker_key_id for s in Seal.objects.all()}) == 1


def test_picture_is_drawn_when_none_is_given(admin, department):
    seal = services.create_seal(admin, department, **_args(picture_png=None))
    assert bytes(seal.picture).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": "  "}, "name"),
        ({"name": "章" * 101}, "name"),
        ({"kind": "personal"}, "kind"),
        ({"valid_until": TODAY() - dt.timedelta(days=1)}, "valid_until"),
        ({"valid_from": None}, "valid_from"),
        ({"suite": "RSA"}, "suite"),
        ({"picture_png": b"GIF89a not a png"}, "picture"),
        ({"picture_png": b"\x89PNG\r\n\x1a\n truncated"}, "picture"),
        ({"picture_png": b""}, "picture"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(admin, department, over, field):
    with pytest.raises(SealError) as caught:
        services.create_seal(admin, department, **_args(**over))
    assert field in caught.value.message_dict
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in caught.value.messages)
    assert not Seal.objects.exists() and not SealKey.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("anonymous", False),
        ("citizen", False),
        ("staff", False),
        ("other_admin", False),
        ("admin", True),
        ("superuser", True),
    ],
)
def test_who_may_make_change_and_revoke_seals(people, department, seal, who, allowed):
    actor = people[who]
    key = seal.keys.get()
    calls = [
        lambda: services.create_seal(actor, department, **_args()),
        lambda: services.rotate_key(actor, seal),
        lambda: services.revoke_key(actor, key, reason="测试"),
        lambda: services.revoke_seal(actor, seal, reason="测试"),
    ]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied):
                call()
    expected = 4 if allowed else 0
    assert (
        AuditEvent.objects.filter(action__startswith="seals.")
        .exclude(object_id=str(seal.pk), action="seals.create_seal")
        .count()
        == expected
    )


# ---------------------------------------------------------------- rotation and revocation


def test_rotation_retires_the_old_key_and_lists_every_key(admin, seal):
    old = seal.keys.get()
    new = services.rotate_key(admin, seal)
    old.refresh_from_db()
    seal.refresh_from_db()
    assert old.retired_at == new.activated_at and new.retired_at is None
    assert new.suite == old.suite
    assert json.loads(seal.seal_info)["property"]["certList"] == [old.key_id, new.key_id]
    assert StoredKey.objects.get(handle=old.handle).destroyed_at is not None
    assert services.sign_raw(seal, b"x").key_id == new.key_id
    [event] = _events("seals.rotate_key")
    assert event.before["active_keys"] == [old.key_id]
    assert event.after["active_keys"] == [new.key_id]


def test_revoked_seal_cannot_be_rotated_or_revoked_again(admin, seal):
    services.revoke_seal(admin, seal, reason="部门撤并")
    with pytest.raises(SealError, match="吊销"):
        services.rotate_key(admin, seal)
    with pytest.raises(SealError, match="吊销"):
        services.revoke_seal(admin, seal, reason="再次")
    assert len(_events("seals.revoke_seal")) == 1


def test_revoke_key_needs_a_reason_and_happens_once(admin, seal):
    key = seal.keys.get()
    with pytest.raises(SealError) as caught:
        services.revoke_key(admin, key, reason=" ")
    assert "reason" in caught.value.message_dict
    services.revoke_key(admin, key, reason="私钥泄露")
    with pytest.raises(SealError, match="已于"):
        services.revoke_key(admin, key, reason="再次")
    [event] = _events("seals.revoke_key")
    assert event.after["revoke_reason"] == "私钥泄露"


def test_key_revocation_takes_effect_at_the_given_time(admin, seal):
    key = seal.keys.get()
    effective = timezone.now() + dt.timedelta(hours=1)
    services.revoke_key(admin, key, reason="计划停用", effective=effective)
    assert services.sign_raw(seal, b"x").key_id == key.key_id  # still before the date
    with pytest.raises(SealError, match="没有可用的签名密钥"):
        services.sign_raw(seal, b"x", at=effective)
    assert StoredKey.objects.get(handle=key.handle).destroyed_at is None


# ---------------------------------------------------------------- signing refusals


@pytest.mark.parametrize(
    "valid_from, valid_until, message",
    [
        (-400, -1, r"已于 .* 到期"),
        (1, 30, "起生效"),
    ],
)
def test_sign_raw_refuses_seals_outside_their_validity(
    department, valid_from, valid_until, message
):
    seal = SealFactory(
        department=department,
        valid_from=TODAY() + dt.timedelta(days=valid_from),
        valid_until=TODAY() + dt.timedelta(days=valid_until),
    )
    with pytest.raises(SealError, match=message):
        services.sign_raw(seal, b"data")
    with pytest.raises(SealError, match=message):
        services.sign_document(seal, b"data")


def test_sign_raw_refuses_a_revoked_seal_and_a_seal_without_key(admin, seal, department):
    other = SealFactory(department=department)
    services.revoke_key(admin, other.keys.get(), reason="私钥泄露")
    with pytest.raises(SealError, match="没有可用的签名密钥"):
        services.sign_raw(other, b"data")
    services.revoke_seal(admin, seal, reason="部门撤并")
    with pytest.raises(SealError, match=r"已于 .* 吊销"):
        services.sign_raw(seal, b"data")


def test_sign_raw_does_not_audit(seal):
    before = AuditEvent.objects.count()
    raw = services.sign_raw(seal, b"payload")
    assert signing.verify(raw.suite, bytes(seal.keys.get().public_der), b"payload", raw.signature)
    assert AuditEvent.objects.count() == before


def test_active_seal_picks_a_usable_seal_of_the_kind(admin, department):
    with pytest.raises(SealError, match="没有可用的公章"):
        services.active_seal(department)
    expired = SealFactory(
        department=department,
        valid_from=TODAY() - dt.timedelta(days=10),
        valid_until=TODAY() - dt.timedelta(days=1),
    )
    business = SealFactory(department=department, kind="business")
    good = SealFactory(department=department)
    assert services.active_seal(department) == good
    assert services.active_seal(department, "business") == business
    services.revoke_seal(admin, good, reason="换章")
    with pytest.raises(SealError):
        services.active_seal(department)
    assert expired.pk != good.pk
