"""Checking uploaded application materials by their content.

Names and browser content types are whatever the client says, so the kind of a
file is decided from its bytes (magic numbers and container structure), its
SHA-256 is taken while streaming (it is stored with the material and proves
later what was submitted), and every file goes through a virus-scan plugin
before anything keeps it. See docs/application-forms.md.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

logger = logging.getLogger(__name__)

DEFAULT_ALLOWED = ("pdf", "jpeg", "png", "ofd")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_NAME_LENGTH = 120
CHUNK = 64 * 1024
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {
    "pdf": "pdf",
    "jpeg": "jpg",
    "png": "png",
    "ofd": "ofd",
    "docx": "docx",
    "xlsx": "xlsx",
}
LABELS = {"pdf": "PDF", "jpeg": "JPG", "png": "PNG", "ofd": "OFD", "docx": "Word", "xlsx": "Excel"}
SCANNED_KINDS = {"pdf", "jpeg", "png", "ofd"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Written in two halves so that scanners on developer machines do not flag this file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# Limits for looking inside archives with the builtin scanner (zip bombs).
ZIP_SCAN_MAX_BYTES = 64 * 1024 * 1024
ZIP_SCAN_MAX_MEMBERS = 2000


@dataclass(frozen=True)
class Inspected:
    """What we know about an accepted upload; `name` is the safe basename to store."""

    kind: str
    content_type: str
    extension: str
    size: int
    sha256: str
    name: str


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    engine: str
    detail: str


class ScannerUnavailable(RuntimeError):
    """The configured scanner could not give a verdict; the file must not be accepted."""


# ---------- names ----------


def safe_name(name: str | None) -> str:
    """The last path part without control characters; clients send `C:\\x\\y.pdf` or `../y`."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name


# ---------- kind detection ----------


def _read_head_tail(f: Any, size: int) -> tuple[bytes, bytes]:
    f.seek(0)
    head = f.read(4096)
    f.seek(max(0, size - 1024))
    tail = f.read(1024)
    f.seek(0)
    return head, tail


def _zip_kind(f: Any) -> str | None:
    try:
        with zipfile.ZipFile(f) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError):
        return None
    finally:
        f.seek(0)
    top = {n.lstrip("/") for n in names}
    if "OFD.xml" in top:
        return "ofd"
    if "[Content_Types].xml" in top:
        if any(n.startswith("word/") for n in top):
            return "docx"
        if any(n.startswith("xl/") for n in top):
            return "xlsx"
    return None


def detect_kind(f: Any, size: int) -> str | None:
    """The file's kind from its bytes, or None when it is none we know."""
    head, tail = _read_head_tail(f, size)
    if head.startswith(b"%PDF-") and b"%%EOF" in tail:
        return "pdf"
    if head[:3] == b"\xff\xd8\xff" and len(head) > 3 and 0xC0 <= head[3] <= 0xFE:
        return "jpeg"
    if (
        head.startswith(PNG_SIGNATURE)
        and head[12:16] == b"IHDR"
        and struct.unpack(">I", head[8:12])[0] == 13
        and b"IEND" in tail
    ):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(f)
    return None


def _kinds_text(kinds: Iterable[str]) -> str:
    labels = [LABELS.get(k, k.upper()) for k in kinds]
    if len(labels) == 1:
        return labels[0]
    return "、".join(labels[:-1]) + " 或 " + labels[-1]


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


# ---------- inspection ----------


def inspect_upload(
    f: Any, allowed: Iterable[str] | None = None, max_bytes: int | None = None
) -> Inspected:
    """Check an uploaded material and describe it; raise ValidationError({"file": [...]}).

    `f` is a Django UploadedFile. The file position is left at 0 so the caller can
    store it straight away.
    """
    allowed = tuple(allowed) if allowed is not None else DEFAULT_ALLOWED
    if max_bytes is None:
        max_bytes = getattr(settings, "YIWANG_MATERIAL_MAX_BYTES", DEFAULT_MAX_BYTES)
    name = safe_name(getattr(f, "name", ""))
    shown = name or "未命名文件"

    def refuse(message: str, code: str) -> ValidationError:
        return ValidationError({"file": [ValidationError(message, code=code)]})

    if len(name) > MAX_NAME_LENGTH:
        raise refuse(
            f"文件名过长(最多 {MAX_NAME_LENGTH} 个字),"
            f"请把文件“{shown[:20]}…”改个短一些的名字后重新上传",
            "name_too_long",
        )
    declared = getattr(f, "size", None)
    if declared is not None and declared > max_bytes:
        raise refuse(_too_large(shown, declared, max_bytes), "too_large")

    digest = hashlib.sha256()
    size = 0
    f.seek(0)
    for chunk in f.chunks(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            f.seek(0)
            raise refuse(_too_large(shown, size, max_bytes), "too_large")
        digest.update(chunk)
    f.seek(0)
    if size == 0:
        raise refuse(f"文件“{shown}”是空文件,请重新选择要上传的文件", "empty")

    kind = detect_kind(f, size)
    if kind is None or kind not in allowed:
        hint = (
            "请上传扫描件或照片" if set(allowed) <= SCANNED_KINDS else "请另存为上述格式后重新上传"
        )
        raise refuse(f"文件“{shown}”的内容不是 {_kinds_text(allowed)} 文件,{hint}", "wrong_type")

    try:
        result = scan(f)
    except ScannerUnavailable:
        logger.exception("virus scanner unavailable; upload %s refused", shown)
        raise refuse(
            "暂时无法完成病毒扫描,文件没有保存,请稍后重新上传", "scanner_unavailable"
        ) from None
    finally:
        f.seek(0)
    if not result.clean:
        logger.warning("upload %s refused by %s: %s", shown, result.engine, result.detail)
        raise refuse("文件未通过病毒扫描,请检查后重新上传", "infected")

    extension = EXTENSIONS[kind]
    if not name:
        name = f"材料.{extension}"
    return Inspected(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        extension=extension,
        size=size,
        sha256=digest.hexdigest(),
        name=name,
    )


def _too_large(shown: str, size: int, max_bytes: int) -> str:
    return (
        f"文件“{shown}”大小超过 {_megabytes(max_bytes)} MB 的上限"
        f"(至少 {_megabytes(size)} MB),请压缩或拆分后重新上传"
    )


# ---------- virus scanning ----------

Scanner = Callable[[Any], ScanResult]
SCANNERS: dict[str, Scanner] = {}


def register_scanner(name: str, scanner: Scanner) -> None:
    """Deployments plug in their engine by name and set YIWANG_VIRUS_SCANNER to it."""
    SCANNERS[name] = scanner


def scan(f: Any) -> ScanResult:
    """Scan with the engine named by YIWANG_VIRUS_SCANNER; raises ScannerUnavailable."""
    name = getattr(settings, "YIWANG_VIRUS_SCANNER", "builtin")
    try:
        scanner = SCANNERS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"YIWANG_VIRUS_SCANNER={name!r} is not registered; known: {', '.join(SCANNERS)}"
        ) from None
    f.seek(0)
    try:
        return scanner(f)
    finally:
        f.seek(0)


def _chunks(f: Any) -> Iterable[bytes]:
    f.seek(0)
    while chunk := f.read(CHUNK):
        yield chunk


def _contains(stream: Iterable[bytes], needle: bytes) -> bool:
    carry = b""
    for chunk in stream:
        window = carry + chunk
        if needle in window:
            return True
        carry = window[-(len(needle) - 1) :]
    return False


def _zip_has_eicar(f: Any) -> bool:
    """Looks inside each member, within limits that defuse zip bombs."""
    try:
        archive = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return False
    budget = [ZIP_SCAN_MAX_BYTES]

    def read(member: Any) -> Iterable[bytes]:
        while budget[0] > 0 and (chunk := member.read(min(CHUNK, budget[0]))):
            budget[0] -= len(chunk)
            yield chunk

    with archive:
        for info in archive.infolist()[:ZIP_SCAN_MAX_MEMBERS]:
            if budget[0] <= 0:
                break
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    if _contains(read(member), EICAR):
                        return True
            except (
                zipfile.BadZipFile,
                zlib.error,
                NotImplementedError,
                RuntimeError,
                OSError,
                EOFError,
                ValueError,
            ):
                continue
    return False


def builtin_scan(f: Any) -> ScanResult:
    """Finds the EICAR test signature, also inside zip containers (OFD, DOCX).

    Not an antivirus: it lets development, tests and demos exercise the whole
    infected-file path for real. Production sets YIWANG_VIRUS_SCANNER=clamd.
    """
    if _contains(_chunks(f), EICAR):
        return ScanResult(False, "builtin", "EICAR test signature")
    f.seek(0)
    if f.read(4) == b"PK\x03\x04" and _zip_has_eicar(f):
        return ScanResult(False, "builtin", "EICAR test signature in archive member")
    return ScanResult(True, "builtin", "")


def _clamd_connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("tcp://"):
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        return socket.create_connection((host, int(port)), timeout=timeout)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def clamd_scan(f: Any) -> ScanResult:
    """Streams the file to clamd with the INSTREAM command (zINSTREAM, length-prefixed chunks).

    YIWANG_CLAMD_SOCKET is a unix socket path or `tcp://host:port`.
    """
    address = getattr(settings, "YIWANG_CLAMD_SOCKET", "/var/run/clamav/clamd.ctl")
    timeout = float(getattr(settings, "YIWANG_CLAMD_TIMEOUT", 30))
    try:
        with _clamd_connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for chunk in _chunks(f):
                sock.sendall(struct.pack(">I", len(chunk)) + chunk)
            sock.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
                if len(reply) > 65536:
                    break
    except (OSError, ValueError) as exc:
        raise ScannerUnavailable(f"clamd at {address} is unreachable: {exc}") from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Test-Signature FOUND", or "... ERROR".
    if answer.endswith(" OK") or answer == "OK":
        return ScanResult(True, "clamd", answer)
    if answer.endswith(" FOUND"):
        return ScanResult(False, "clamd", answer.removeprefix("stream: ").removesuffix(" FOUND"))
    raise ScannerUnavailable(f"clamd at {address} answered {answer or 'nothing'!r}")


def no_scan(f: Any) -> ScanResult:
    """For deployments that scan at the storage layer instead; say so in the config."""
    return ScanResult(True, "none", "not scanned")


register_scanner("builtin", builtin_scan)
register_scanner("clamd", clamd_scan)
register_scanner("none", no_scan)
