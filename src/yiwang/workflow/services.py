"""Uploading process definitions (administrators only; the caller checks the role).

Files are validated before anything is written, and every upload makes a new
version: a case started on version n keeps running on version n.
"""

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from lxml import etree

from yiwang.audit.services import record, snapshot
from yiwang.workflow import engine
from yiwang.workflow.models import ProcessDefinition

DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_FILE_BYTES = 1_000_000
KEY_PATTERN = re.compile(r"[-a-zA-Z0-9_]{1,100}")  # ProcessDefinition.key is a SlugField
CACHE_SIZE = 64
# Stored files passed validation; still never resolve entities or reach the network.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def _split_files(files: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    bpmn = {n: c for n, c in files.items() if n.lower().endswith(".bpmn")}
    dmn = {n: c for n, c in files.items() if n.lower().endswith(".dmn")}
    others = sorted(set(files) - set(bpmn) - set(dmn))
    if others:
        raise ValidationError(
            {"files": [f"只能上传 .bpmn 和 .dmn 文件,请移除:{'、'.join(others)}"]}
        )
    if len(bpmn) != 1 or len(dmn) > 1:
        raise ValidationError({"files": ["请上传一个 .bpmn 流程文件,以及至多一个 .dmn 决策文件"]})
    too_big = [n for n, c in files.items() if len(c) > MAX_FILE_BYTES]
    if too_big:
        raise ValidationError({"files": [f"文件过大(上限 1 MB):{'、'.join(too_big)}"]})
    return bpmn, dmn


def upload_definition(
    actor: Any, key: str, name: str, files: dict[str, bytes], process_id: str | None = None
) -> ProcessDefinition:
    """Validate the files and store them as the next version of process `key`.

    `process_id` is the BPMN process to run, by default `key`; a different key lets
    one generic process (instant_approval) be stored once per listing with its own DMN.
    """
    if not KEY_PATTERN.fullmatch(key or ""):
        raise ValidationError(
            {"key": ["流程编号只能用字母、数字、- 和 _,最长 100 个字符,如 default_approval"]}
        )
    process_id = process_id or key
    bpmn, dmn = _split_files(files)
    problems = engine.validate_definition(bpmn, dmn, process_id)
    if problems:
        raise ValidationError({"files": [str(p) for p in problems]})
    try:
        texts = [c.decode("utf-8") for c in (*bpmn.values(), *dmn.values())]
    except UnicodeDecodeError as exc:
        raise ValidationError({"files": ["流程文件必须是 UTF-8 编码"]}) from exc
    try:
        with transaction.atomic():
            latest = (
                ProcessDefinition.objects.select_for_update()
                .filter(key=key)
                .order_by("-version")
                .first()
            )
            definition = ProcessDefinition.objects.create(
                key=key,
                process_id=process_id,
                version=latest.version + 1 if latest else 1,
                name=name,
                bpmn=texts[0],
                dmn=texts[1] if len(texts) > 1 else "",
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            after = snapshot(
                definition, fields=["key", "process_id", "version", "name", "is_active"]
            )
            record(actor, "workflow.upload_definition", definition, after=after)
    except IntegrityError as exc:  # two uploads of the same key raced for one version number
        raise ValidationError({"key": ["同一流程正在被另一次上传更新,请稍后重试"]}) from exc
    return definition


_cache: OrderedDict[tuple[int, str], engine.Definition] = OrderedDict()
_cache_lock = threading.Lock()


def _fingerprint(definition: ProcessDefinition) -> str:
    # Guards against a reused primary key (rolled-back rows in tests, a restored database).
    text = "\0".join((definition.process_id or definition.key, definition.bpmn, definition.dmn))
    return hashlib.sha256(text.encode()).hexdigest()


def load(definition: ProcessDefinition) -> engine.Definition:
    """The engine's parsed form of a stored version, cached: parsing takes ~10 ms per call.

    Stored versions are never edited, so the parsed form is kept per row in a small
    LRU shared by the threads of this process.
    """
    cache_key = (definition.pk, _fingerprint(definition))
    if definition.pk is not None:
        with _cache_lock:
            parsed = _cache.get(cache_key)
            if parsed is not None:
                _cache.move_to_end(cache_key)
                return parsed
    process_id = definition.process_id or definition.key
    dmn = {f"{definition.key}.dmn": definition.dmn.encode()} if definition.dmn else None
    parsed = engine.get_engine().load_definition(
        {f"{definition.key}.bpmn": definition.bpmn.encode()}, dmn, process_id
    )
    if definition.pk is not None:
        with _cache_lock:
            parsed = _cache.setdefault(cache_key, parsed)
            _cache.move_to_end(cache_key)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return parsed


@dataclass(frozen=True)
class Step:
    """A user task of a stored version, as the console lists it."""

    name: str
    title: str
    lane: str
    role: str
    department: str


def user_steps(definition: ProcessDefinition) -> list[Step]:
    """The user tasks of a stored version with their lanes, in file order.

    Read from the BPMN itself rather than the engine's spec, so the list does not
    depend on which engine runs the process.
    """
    root = etree.fromstring(definition.bpmn.encode(), _XML_PARSER)
    process_id = definition.process_id or definition.key
    steps: list[Step] = []
    for process in root.iter(f"{{{engine.BPMN_NS}}}process"):
        if process.get("id") != process_id:
            continue
        lane_of: dict[str, str] = {}
        for lane in process.iter(f"{{{engine.BPMN_NS}}}lane"):
            for ref in lane.findall("bpmn:flowNodeRef", engine.NS):
                lane_of[(ref.text or "").strip()] = lane.get("name", "")
        for task in process.iter(f"{{{engine.BPMN_NS}}}userTask"):
            task_id = task.get("id", "")
            lane_name = lane_of.get(task_id, "")
            lane = engine.parse_lane(lane_name) or engine.Lane("")
            steps.append(
                Step(task_id, task.get("name") or task_id, lane_name, lane.role, lane.department)
            )
    return steps


# Online listings without their own setup run this process (cases.services.setup_for).
DEFAULT_KEY = "default_approval"


def _key_in_use(key: str) -> bool:
    # Listings refer to processes by key; looked up at run time because cases sits above us.
    if key == DEFAULT_KEY:
        return True
    if not apps.is_installed("yiwang.cases"):
        return False
    return apps.get_model("cases", "ListingProcess").objects.filter(process_key=key).exists()


@transaction.atomic
def set_active(actor: Any, definition: ProcessDefinition, active: bool) -> ProcessDefinition:
    """Switch a version on or off for new cases; running cases keep their version either way.

    The last active version of a key a listing uses cannot be switched off: that
    listing could no longer take applications.
    """
    versions = ProcessDefinition.objects.select_for_update().filter(key=definition.key)
    current = versions.get(pk=definition.pk)
    if current.is_active == active:
        return current
    others_active = versions.filter(is_active=True).exclude(pk=current.pk).exists()
    if not active and not others_active and _key_in_use(current.key):
        raise ValidationError(
            {
                "is_active": [
                    f"流程 {current.key} 只有这一个启用的版本,且有事项正在使用,不能停用;"
                    "请先启用或上传另一个版本,或把事项改用其他流程"
                ]
            }
        )
    before = snapshot(current, fields=["is_active"])
    current.is_active = active
    current.save(update_fields=["is_active"])
    record(
        actor,
        "workflow.set_active",
        current,
        before=before,
        after=snapshot(current, fields=["is_active"]),
    )
    return current


def latest(key: str) -> ProcessDefinition:
    """The newest active version of `key`, the one new cases start on."""
    definition = (
        ProcessDefinition.objects.filter(key=key, is_active=True).order_by("-version").first()
    )
    if definition is None:
        raise ProcessDefinition.DoesNotExist(f"流程 {key} 没有启用的版本,请先上传流程定义")
    return definition


def shipped_files(name: str, dmn_name: str | None = None) -> dict[str, bytes]:
    """The files of a process shipped in `data/` (e.g. "default_approval").

    The DMN is `dmn_name`.dmn if given, else `name`.dmn when it exists.
    """
    files = {f"{name}.bpmn": (DATA_DIR / f"{name}.bpmn").read_bytes()}
    dmn_path = DATA_DIR / f"{dmn_name or name}.dmn"
    if dmn_name or dmn_path.exists():
        files[dmn_path.name] = dmn_path.read_bytes()
    return files


def ensure_shipped(
    actor: Any, key: str, dmn_name: str | None = None, *, process: str | None = None
) -> ProcessDefinition:
    """Upload a shipped process as `key` unless some version of `key` exists already.

    `process` names the shipped BPMN (default `key`):
    `ensure_shipped(admin, "instant_approval_elderly", "elderly_allowance",
    process="instant_approval")` stores the generic 秒批 process with the elderly DMN.
    """
    existing = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if existing is not None:
        return existing
    process = process or key
    files = shipped_files(process, dmn_name)
    bpmn = {n: c for n, c in files.items() if n.endswith(".bpmn")}
    dmn = {n: c for n, c in files.items() if n.endswith(".dmn")}
    try:
        name = engine.get_engine().load_definition(bpmn, dmn, process).name
    except engine.DefinitionInvalid as exc:
        raise ValidationError({"files": [str(p) for p in exc.problems]}) from exc
    return upload_definition(actor, key, name, files, process_id=process)
