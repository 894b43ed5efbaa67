"""Uploaded materials are judged by their bytes, hashed, and scanned before anything keeps them."""

import hashlib
import io
import os
import socket
import struct
import tempfile
import threading
import zipfile
import zlib

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.cases import materials
from yiwang.cases.materials import ScannerUnavailable, ScanResult, inspect_upload, scan

# Built from two halves, as in the module, so no scanner flags this test file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pdf(body: bytes = b"") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        + body
        + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


OFD = zipped({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
WRONG_TYPE = "文件“{}”的内容不是 PDF、JPG、PNG 或 OFD 文件,请上传扫描件或照片"


def upload(content: bytes, name: str = "材料.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def messages(exc: ValidationError) -> list[str]:
    return exc.message_dict["file"]


@pytest.fixture(autouse=True)
def builtin_scanner(settings):
    settings.YIWANG_VIRUS_SCANNER = "builtin"


# ---------- kinds ----------


@pytest.mark.parametrize(
    ("content", "name", "kind", "content_type", "extension"),
    [
        (pdf(), "申请书.pdf", "pdf", "application/pdf", "pdf"),
        (png(), "照片.PNG", "png", "image/png", "png"),
        (jpeg(), "photo.jpeg", "jpeg", "image/jpeg", "jpg"),
        (OFD, "证明.ofd", "ofd", "application/ofd", "ofd"),
        # the name and the browser's type do not matter, the bytes do
        (png(), "scan.pdf", "png", "image/png", "png"),
        (pdf(), "noextension", "pdf", "application/pdf", "pdf"),
    ],
)
def test_accepted_kinds_are_recognised_by_content(content, name, kind, content_type, extension):
    f = upload(content, name, content_type="text/plain")
    inspected = inspect_upload(f)
    assert (inspected.kind, inspected.content_type, inspected.extension) == (
        kind,
        content_type,
        extension,
    )
    assert inspected.size == len(content)
    assert inspected.sha256 == hashlib.sha256(content).hexdigest()
    assert f.tell() == 0


@pytest.mark.parametrize(
    ("content", "kind", "extension"),
    [(DOCX, "docx", "docx"), (XLSX, "xlsx", "xlsx"), (pdf(), "pdf", "pdf")],
)
def test_office_files_only_when_the_listing_allows_them(content, kind, extension):
    inspected = inspect_upload(upload(content, "表格"), allowed=["pdf", "docx", "xlsx"])
    assert (inspected.kind, inspected.extension) == (kind, extension)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"just some text", "x.pdf"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "truncated.pdf"),  # no %%EOF: cut off
        (b"<html><body>%PDF-</body></html>", "page.pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "broken.png"),
        (b"\xff\xd8", "two-bytes.jpg"),
        (DOCX, "申请书.docx"),  # a real Word file, but not allowed by default
        (XLSX, "表.xlsx"),
        (zipped({"readme.txt": b"hello"}), "archive.ofd"),
        (b"PK\x03\x04not really a zip at all", "fake.ofd"),
        (b"MZ\x90\x00\x03" + b"\x00" * 100, "setup.pdf"),
        (EICAR, "eicar.pdf"),
    ],
)
def test_other_content_is_refused_naming_the_file(content, name):
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(content, name))
    assert messages(caught.value) == [WRONG_TYPE.format(name)]
    assert caught.value.error_dict["file"][0].code == "wrong_type"


def test_the_refusal_lists_what_the_listing_accepts():
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(png(), "a.png"), allowed=["pdf", "docx"])
    assert messages(caught.value) == [
        "文件“a.png”的内容不是 PDF 或 Word 文件,请另存为上述格式后重新上传"
    ]


# ---------- size and names ----------


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(b"", "空.pdf"))
    assert messages(caught.value) == ["文件“空.pdf”是空文件,请重新选择要上传的文件"]


def test_too_large_by_argument_and_by_setting(settings):
    content = pdf(b"x" * 2_000_000)
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(content, "大.pdf"), max_bytes=1024 * 1024)
    assert messages(caught.value) == [
        "文件“大.pdf”大小超过 1 MB 的上限(至少 1.9 MB),请压缩或拆分后重新上传"
    ]
    settings.YIWANG_MATERIAL_MAX_BYTES = 1_000_000
    with pytest.raises(ValidationError, match="超过 1 MB 的上限"):
        inspect_upload(upload(content, "大.pdf"))
    settings.YIWANG_MATERIAL_MAX_BYTES = 3_000_000
    assert inspect_upload(upload(content, "大.pdf")).size == len(content)


class LyingSize(SimpleUploadedFile):
    """A file whose declared size is smaller than its content."""

    @property
    def size(self):
        return 10

    @size.setter
    def size(self, value):
        pass


def test_the_size_limit_holds_while_streaming_even_if_the_declared_size_lies():
    f = LyingSize("a.pdf", pdf(b"x" * 300_000))
    with pytest.raises(ValidationError, match="超过"):
        inspect_upload(f, max_bytes=200_000)


def test_default_limit_is_ten_megabytes():
    from django.conf import settings as django_settings

    assert django_settings.YIWANG_MATERIAL_MAX_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("C:\\Users\\张三\\Desktop\\身份证.pdf", "身份证.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/home/u/a\x00b\n.pdf", "ab.pdf"),
        ("", "材料.pdf"),
        ("..", "材料.pdf"),
        ("扫" * 120, "扫" * 120),
    ],
)
def test_only_a_safe_basename_is_kept(name, kept):
    f = upload(pdf(), "x.pdf")
    f._name = name  # bypass Django's own clean-up: other file objects may not have it
    assert inspect_upload(f).name == kept


def test_a_name_too_long_is_refused():
    f = upload(pdf(), "x.pdf")
    f._name = "扫" * 121 + ".pdf"
    with pytest.raises(ValidationError) as caught:
        inspect_upload(f)
    assert messages(caught.value)[0].startswith("文件名过长(最多 120 个字)")


def test_large_files_on_disk_are_streamed_and_rewound():
    content = pdf(os.urandom(3 * materials.CHUNK + 17))
    f = TemporaryUploadedFile("big.pdf", "application/pdf", len(content), None)
    f.write(content)
    f.seek(len(content) // 2)
    inspected = inspect_upload(f)
    assert inspected.sha256 == hashlib.sha256(content).hexdigest()
    assert f.tell() == 0
    assert f.read() == content
    f.close()


@settings(max_examples=200, deadline=None)
@given(
    content=st.binary(max_size=2048)
    | st.sampled_from([pdf(), png(), jpeg(), OFD, DOCX]).flatmap(
        lambda good: st.integers(0, len(good)).map(lambda n: good[:n])
    ),
    name=st.text(max_size=200),
)
def test_any_upload_is_accepted_or_refused_with_a_validation_error(content, name):
    f = upload(content)
    f._name = name
    try:
        inspected = inspect_upload(f)
    except ValidationError as exc:
        assert messages(exc)
    else:
        assert inspected.kind in materials.DEFAULT_ALLOWED
        assert len(inspected.name) <= materials.MAX_NAME_LENGTH
    assert f.tell() == 0


# ---------- virus scanning ----------


INFECTED = [
    ("pdf with the test signature", pdf(b"% " + EICAR)),
    ("ofd with it in a compressed member", zipped({"OFD.xml": b"<OFD/>", "Doc_0/a.txt": EICAR})),
]


@pytest.mark.parametrize(("label", "content"), INFECTED)
def test_infected_files_are_refused(label, content):
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(content, "a.pdf"))
    assert messages(caught.value) == ["文件未通过病毒扫描,请检查后重新上传"]


def test_the_builtin_scanner_finds_the_signature_across_chunk_borders():
    content = b"a" * (materials.CHUNK - 10) + EICAR
    assert scan(upload(content)) == ScanResult(False, "builtin", "EICAR test signature")
    assert scan(upload(pdf())).clean


def test_scanner_none_passes_everything(settings):
    settings.YIWANG_VIRUS_SCANNER = "none"
    assert inspect_upload(upload(INFECTED[0][1])).kind == "pdf"


def test_an_unknown_scanner_is_a_configuration_error(settings):
    settings.YIWANG_VIRUS_SCANNER = "nonexistent"
    with pytest.raises(ImproperlyConfigured, match="nonexistent"):
        scan(upload(pdf()))


def test_deployments_can_register_a_scanner(settings, monkeypatch):
    seen = []

    def fussy(f):
        seen.append(f.read(5))
        return ScanResult(False, "fussy", "dislikes everything")

    monkeypatch.setitem(materials.SCANNERS, "fussy", fussy)
    settings.YIWANG_VIRUS_SCANNER = "fussy"
    f = upload(pdf())
    with pytest.raises(ValidationError, match="病毒扫描"):
        inspect_upload(f)
    assert seen == [b"%PDF-"]  # the scanner reads from the start
    assert f.tell() == 0


# ---------- clamd (INSTREAM over a unix socket) ----------


class FakeClamd:
    """Speaks clamd's INSTREAM protocol on a unix socket, as `clamd` does."""

    def __init__(self, reply: bytes | None = None):
        self.dir = tempfile.mkdtemp(prefix="clamd")
        self.path = os.path.join(self.dir, "clamd.sock")
        self.reply = reply
        self.received = b""
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.server.accept()
        with conn:
            command = b""
            while not command.endswith(b"\0"):
                command += conn.recv(1)
            assert command == b"zINSTREAM\0"
            while True:
                (length,) = struct.unpack(">I", self.recv_exact(conn, 4))
                if length == 0:
                    break
                self.received += self.recv_exact(conn, length)
            if self.reply is None:
                found = EICAR in self.received
                reply = b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0"
            else:
                reply = self.reply
            if reply:
                conn.sendall(reply)
            else:
                conn.recv(1)  # never answer; the client must time out

    @staticmethod
    def recv_exact(conn, n):
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise ConnectionError
            data += part
        return data

    def close(self):
        self.server.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


@pytest.fixture
def clamd(settings):
    servers = []

    def start(reply=None):
        server = FakeClamd(reply)
        servers.append(server)
        settings.YIWANG_VIRUS_SCANNER = "clamd"
        settings.YIWANG_CLAMD_SOCKET = server.path
        settings.YIWANG_CLAMD_TIMEOUT = 2
        return server

    yield start
    for server in servers:
        server.close()


def test_clamd_receives_the_whole_file_and_passes_it(clamd):
    server = clamd()
    content = pdf(os.urandom(200_000))
    inspected = inspect_upload(upload(content))
    assert inspected.kind == "pdf"
    assert server.received == content


def test_clamd_verdict_infected_is_refused(clamd):
    clamd()
    with pytest.raises(ValidationError, match="文件未通过病毒扫描"):
        inspect_upload(upload(INFECTED[0][1]))


def test_clamd_result_names_the_signature(clamd):
    clamd()
    assert scan(upload(EICAR)) == ScanResult(False, "clamd", "Eicar-Test-Signature")


@pytest.mark.parametrize(
    "reply", [b"INSTREAM size limit exceeded. ERROR\0", b"", b"garbage\0"], ids=str
)
def test_clamd_without_a_verdict_never_passes_the_file(clamd, settings, reply):
    clamd(reply)
    settings.YIWANG_CLAMD_TIMEOUT = 0.3
    with pytest.raises(ScannerUnavailable):
        scan(upload(pdf()))


def test_unreachable_clamd_refuses_the_upload_with_a_clear_error(settings):
    settings.YIWANG_VIRUS_SCANNER = "clamd"
    settings.YIWANG_CLAMD_SOCKET = "/nonexistent/clamd.sock"
    with pytest.raises(ScannerUnavailable, match="unreachable"):
        scan(upload(pdf()))
    f = upload(pdf())
    with pytest.raises(ValidationError) as caught:
        inspect_upload(f)
    assert messages(caught.value) == ["暂时无法完成病毒扫描,文件没有保存,请稍后重新上传"]
    assert caught.value.error_dict["file"][0].code == "scanner_unavailable"
    assert f.tell() == 0
