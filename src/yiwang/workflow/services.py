"""Uploading process definitions (administrators only; the caller checks the role).

Files are validated before anything is written, and every upload makes a new
version: a case started on version n keeps running on version n.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from yiwang.audit.services import record, snapshot
from yiwang.workflow import engine
from yiwang.workflow.models import ProcessDefinition

DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_FILE_BYTES = 1_000_000


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
    actor: Any, key: str, name: str, files: dict[str, bytes]
) -> ProcessDefinition:
    """Validate the files and store them as the next version of process `key`."""
    bpmn, dmn = _split_files(files)
    problems = engine.validate_definition(bpmn, dmn, key)
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
                version=latest.version + 1 if latest else 1,
                name=name,
                bpmn=texts[0],
                dmn=texts[1] if len(texts) > 1 else "",
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            after = snapshot(definition, fields=["key", "version", "name", "is_active"])
            record(actor, "workflow.upload_definition", definition, after=after)
    except IntegrityError as exc:  # two uploads of the same key raced for one version number
        raise ValidationError({"key": ["同一流程正在被另一次上传更新,请稍后重试"]}) from exc
    return definition


def load(definition: ProcessDefinition) -> engine.Definition:
    """The engine's parsed form of a stored version."""
    dmn = {f"{definition.key}.dmn": definition.dmn.encode()} if definition.dmn else None
    return engine.get_engine().load_definition(
        {f"{definition.key}.bpmn": definition.bpmn.encode()}, dmn, definition.key
    )


def shipped_files(name: str) -> dict[str, bytes]:
    """The files of a process shipped in `data/` (e.g. "default_approval")."""
    return {f"{name}.bpmn": (DATA_DIR / f"{name}.bpmn").read_bytes()}
