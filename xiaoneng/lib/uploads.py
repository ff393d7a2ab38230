"""Uploaded files judged by what they are, not by what they are called.

A file's type is read from its bytes (a JPEG renamed .pdf is a JPEG; an .exe renamed .png is
refused), its size is checked before it is stored, it passes the deployment's virus scanner
(`settings.XIAONENG_VIRUS_SCAN`, a dotted path to `scan(name, data) -> reason | None`; the
default `accept_all` accepts everything), and it is stored under a random name so that nothing
a visitor typed becomes a path. Counter materials (approvals.materials) and public complaint
attachments both judge files here.
"""
import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
OFD = "application/ofd"  # the national e-document format: a ZIP container with an OFD.xml
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", OFD: ".ofd"}


class UploadRefused(ValueError):
    """Why a file is refused, in the user's language."""


@dataclass(frozen=True)
class Checked:
    name: str  # the visitor's file name, for display only
    content_type: str
    data: bytes
    sha256: str

    def storage_name(self) -> str:
        return secrets.token_hex(16) + EXTENSIONS[self.content_type]


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves show (PDF, JPEG, PNG, OFD), or None."""
    for content_type, signatures in SIGNATURES.items():
        if any(data.startswith(signature) for signature in signatures):
            return content_type
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "OFD.xml" in archive.namelist():
                    return OFD
        except (zipfile.BadZipFile, ValueError):
            return None
    return None


def accept_all(name: str, data: bytes) -> str | None:
    """The default virus-scan hook: no scanner configured, every file is accepted."""
    return None


def virus_scan(name: str, data: bytes) -> str | None:
    """The configured scanner's reason to refuse the file, or None."""
    return import_string(settings.XIAONENG_VIRUS_SCAN)(name, data)


def check(upload, *, allowed: set[str], max_bytes: int, messages: dict[str, str]) -> Checked:
    """Read an uploaded file whole (it is at most `max_bytes`) and judge it.

    `messages`: "too_big" and "type" texts, with %(name)s and %(limit)s, in the caller's language
    (and optionally "virus", with %(name)s and %(reason)s).
    """
    name = PurePath((upload.name or "").replace("\\", "/")).name[:100] or "file"
    if upload.size is not None and upload.size > max_bytes:
        raise UploadRefused(messages["too_big"] % {"name": name, "limit": max_bytes // (1024 * 1024) or 1})
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRefused(messages["too_big"] % {"name": name, "limit": max_bytes // (1024 * 1024) or 1})
    content_type = sniff(data)
    if content_type not in allowed:
        raise UploadRefused(messages["type"] % {"name": name})
    refusal = virus_scan(name, data)
    if refusal:
        raise UploadRefused(messages.get("virus", _("文件“%(name)s”未通过病毒查杀：%(reason)s"))
                            % {"name": name, "reason": refusal})
    return Checked(name=name, content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest())
