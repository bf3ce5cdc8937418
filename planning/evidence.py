"""Checks for uploaded evidence files: size, and a type sniffed from the content, not the name.

Allowed: PDF, PNG/JPEG images, Office documents (OOXML .docx/.xlsx/.pptx and legacy .doc/.xls/.ppt).
Macro-enabled Office files are refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# extension -> (content type, kind of check)
ALLOWED = {
    ".pdf": ("application/pdf", "pdf"),
    ".png": ("image/png", "png"),
    ".jpg": ("image/jpeg", "jpeg"),
    ".jpeg": ("image/jpeg", "jpeg"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "ooxml:word/"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ooxml:xl/"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "ooxml:ppt/"),
    ".doc": ("application/msword", "ole"),
    ".xls": ("application/vnd.ms-excel", "ole"),
    ".ppt": ("application/vnd.ms-powerpoint", "ole"),
}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


def check_evidence_file(upload: IO[bytes], *, name: str, size: int) -> CheckedFile:
    limit = settings.EVIDENCE_MAX_BYTES
    display = name[:80]
    if size > limit:
        raise ValidationError(
            _("文件“%(name)s”为 %(size).1f MB，超过 %(limit)d MB 的上限。")
            % {"name": display, "size": size / 1024 / 1024, "limit": limit // 1024 // 1024}
        )
    if size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": display})
    extension = _extension(name)
    if extension not in ALLOWED:
        raise ValidationError(
            _("文件“%(name)s”的类型不支持；请上传 PDF、图片（PNG、JPG）或 Office 文档。") % {"name": display}
        )
    content_type, kind = ALLOWED[extension]
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not _content_matches(upload, head, kind):
        raise ValidationError(
            _("文件“%(name)s”的内容与扩展名 %(ext)s 不符，可能已损坏或被改名。") % {"name": display, "ext": extension}
        )
    return CheckedFile(name=name[:200], content_type=content_type, size=size)


def _content_matches(upload: IO[bytes], head: bytes, kind: str) -> bool:
    if kind == "pdf":
        return head.startswith(b"%PDF-")
    if kind == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind == "ole":
        return head.startswith(OLE_MAGIC)
    if kind.startswith("ooxml:"):
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(upload) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            upload.seek(0)
        has_part = any(n.startswith(kind.removeprefix("ooxml:")) for n in names)
        has_macros = any(n.endswith("vbaProject.bin") for n in names)
        return "[Content_Types].xml" in names and has_part and not has_macros
    return False
