"""Materials handed in at the counter (申请材料): what is accepted, checked before anything is stored.

* Types: PDF, JPEG, PNG and OFD (the national e-document format, a ZIP container with an
  `OFD.xml`), recognised by their first bytes — a file's name or the browser's declared type
  decide nothing, so an executable renamed `.pdf` is refused.
* Size: at most `case_material_max_bytes` (xiaoneng.conf; 10 MB by default).
* Virus scan: `settings.XIAONENG_VIRUS_SCAN` names a callable `scan(name, data) -> str | None`,
  called before the file is stored; a returned reason refuses the file (a form error naming it).
  The default, `xiaoneng.lib.uploads.accept_all`, accepts everything.
* Sniffing and scanning are xiaoneng.lib.uploads, shared with the public complaint form; this module
  adds the counter's limits and messages, which name the material the file is for.
* Storage: under MEDIA_ROOT/case-materials with a random name (models._material_path), never
  under a public URL; the case page links to a download view that checks the case's scope.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.utils.translation import gettext as _

from xiaoneng.conf import rule
from xiaoneng.lib.uploads import sniff, virus_scan

from .actions import CaseError

TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "application/ofd": "OFD"}
ACCEPT_ATTR = ".pdf,.jpg,.jpeg,.png,.ofd,application/pdf,image/jpeg,image/png"


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size, 1) / 1024:.0f} KB" if size >= 1024 else f"{size} B"


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check, ready to store."""

    name: str  # the material it is for
    original_name: str
    data: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def check_file(material: str, upload, field: str) -> CheckedFile:
    """Size, type by content, virus scan — in that order, each refusal a CaseError on `field`."""
    limit = int(rule("case_material_max_bytes"))
    original = (getattr(upload, "name", "") or "")[:200]
    if upload.size > limit:
        raise CaseError(_("“%(name)s”的文件过大（%(size)s），每个文件最大 %(max)s") % {
            "name": material, "size": human_size(upload.size), "max": human_size(limit)}, field)
    data = b"".join(upload.chunks())
    if len(data) > limit:  # the declared size is the client's word
        raise CaseError(_("“%(name)s”的文件过大（%(size)s），每个文件最大 %(max)s") % {
            "name": material, "size": human_size(len(data)), "max": human_size(limit)}, field)
    content_type = sniff(data)
    if content_type is None:
        raise CaseError(_("“%(name)s”的文件“%(file)s”不是可接受的类型：只接受 PDF、JPEG、PNG、OFD 文件（按文件内容识别，与扩展名无关）")
                        % {"name": material, "file": original}, field)
    refusal = virus_scan(original, data)
    if refusal:
        raise CaseError(_("“%(name)s”的文件未通过病毒查杀：%(reason)s") % {"name": material, "reason": refusal}, field)
    return CheckedFile(material, original, data, content_type, hashlib.sha256(data).hexdigest())
