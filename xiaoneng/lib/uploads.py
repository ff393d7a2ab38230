"""Uploaded files judged by what they are, not by what they are called.

A file's type is read from its first bytes (a JPEG renamed .pdf is a JPEG; an .exe renamed
.png is refused), its size is checked before it is stored, and it is stored under a random
name so that nothing a visitor typed becomes a path.
"""
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import PurePath

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


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


def sniff(head: bytes) -> str | None:
    for content_type, signatures in SIGNATURES.items():
        if any(head.startswith(signature) for signature in signatures):
            return content_type
    return None


def check(upload, *, allowed: set[str], max_bytes: int, messages: dict[str, str]) -> Checked:
    """Read an uploaded file whole (it is at most `max_bytes`) and judge it.

    `messages`: "too_big" and "type" texts, with %(name)s and %(limit)s, in the caller's language.
    """
    name = PurePath((upload.name or "").replace("\\", "/")).name[:100] or "file"
    if upload.size is not None and upload.size > max_bytes:
        raise UploadRefused(messages["too_big"] % {"name": name, "limit": max_bytes // (1024 * 1024) or 1})
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRefused(messages["too_big"] % {"name": name, "limit": max_bytes // (1024 * 1024) or 1})
    content_type = sniff(data[:16])
    if content_type not in allowed:
        raise UploadRefused(messages["type"] % {"name": name})
    return Checked(name=name, content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest())
