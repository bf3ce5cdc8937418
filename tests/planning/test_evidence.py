"""Evidence files: the type is sniffed from the content; size and count are limited."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from planning.evidence import check_evidence_file

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF = b"%PDF-1.7\n%%EOF"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32


def ooxml(part: str, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00")
    return buffer.getvalue()


def check(name: str, content: bytes):  # type: ignore[no-untyped-def]
    return check_evidence_file(io.BytesIO(content), name=name, size=len(content))


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("说明.pdf", PDF, "application/pdf"),
        ("现场.PNG", PNG, "image/png"),
        ("现场.jpg", JPEG, "image/jpeg"),
        (
            "报告.docx",
            ooxml("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("台账.xlsx", ooxml("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "汇报.pptx",
            ooxml("ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("旧报告.doc", OLE, "application/msword"),
    ],
)
def test_it_accepts_documents_whose_content_matches(name: str, content: bytes, content_type: str) -> None:
    assert check(name, content).content_type == content_type


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("程序.exe", b"MZ\x90\x00", "类型不支持"),
        ("无扩展名", PDF, "类型不支持"),
        ("伪装.pdf", b"MZ\x90\x00\x03", "内容与扩展名 .pdf 不符"),
        ("伪装.png", JPEG, "内容与扩展名 .png 不符"),
        ("伪装.docx", ooxml("xl/workbook.xml"), "内容与扩展名 .docx 不符"),
        ("宏.docx", ooxml("word/document.xml", macro=True), "内容与扩展名 .docx 不符"),
        ("坏.xlsx", b"PK\x03\x04garbage", "内容与扩展名 .xlsx 不符"),
        ("空.pdf", b"", "是空文件"),
    ],
)
def test_it_refuses_everything_else(name: str, content: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check(name, content)


@override_settings(EVIDENCE_MAX_BYTES=1024 * 1024)
def test_it_refuses_oversized_files() -> None:
    with pytest.raises(ValidationError, match=r"超过 1 MB 的上限"):
        check_evidence_file(io.BytesIO(PDF), name="大.pdf", size=2 * 1024 * 1024)
