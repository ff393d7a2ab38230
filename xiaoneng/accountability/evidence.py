"""Evidence files (证据材料) on a proposal or with a case's findings.

* Judged by `lib.uploads`: PDF, JPEG or PNG recognised by their first bytes (a renamed executable
  is refused, whatever it is called), at most `accountability_evidence_max_bytes` each and
  `accountability_evidence_max_count` per submission (xiaoneng.conf), checked before anything
  is stored; the refusal names the file and the reason on the form.
* Stored under MEDIA_ROOT/accountability/ with a random name (nothing the uploader typed becomes
  a path) and its SHA-256, in the transaction of the action that adds it: a refused action leaves
  no row, and a file written for a rolled-back transaction is named by no row and never served.
* Served only by `views_evidence.evidence_file`: to those who may see the proposal or case
  ("accountability.view" in its scope; everyone else 404), bytes checked against the stored hash,
  each download audited (`accountability.evidence.read`).
"""
from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xiaoneng.audit.log import record
from xiaoneng.conf import rule
from xiaoneng.lib import uploads

from .models import Evidence

ALLOWED = {"application/pdf", "image/png", "image/jpeg"}
ACCEPT_ATTR = "application/pdf,image/jpeg,image/png"


class EvidenceError(ValueError):
    def __init__(self, message: str, field: str = "files"):
        super().__init__(message)
        self.message, self.field = message, field


def limits() -> tuple[int, int]:
    return int(rule("accountability_evidence_max_count")), int(rule("accountability_evidence_max_bytes"))


def check(files) -> list[uploads.Checked]:
    """Judge each uploaded file; the first refused one raises `EvidenceError` naming it."""
    files = [f for f in files or [] if f]
    count, max_bytes = limits()
    if len(files) > count:
        raise EvidenceError(_t("最多上传 %(n)d 个证据文件") % {"n": count})
    messages = {"too_big": _t("证据文件“%(name)s”超过 %(limit)d MB"),
                "type": _t("证据文件“%(name)s”不是 PDF、JPEG 或 PNG 文件（按文件内容识别，与扩展名无关）")}
    try:
        return [uploads.check(f, allowed=ALLOWED, max_bytes=max_bytes, messages=messages) for f in files]
    except uploads.UploadRefused as refused:
        raise EvidenceError(str(refused)) from None


def store(files: list[uploads.Checked], *, at: datetime, by: str = "", label: str = "", text: str = "",
          proposal=None, case=None) -> list[Evidence]:
    """Store checked files as evidence of `proposal` or `case`, in the caller's transaction."""
    count, _max = limits()
    if len(files) > count:  # callers other than the form (API, commands) pass through here too
        raise EvidenceError(_t("最多上传 %(n)d 个证据文件") % {"n": count})
    stored = []
    for checked in files:
        if not isinstance(checked, uploads.Checked) or checked.content_type not in ALLOWED:
            raise EvidenceError(_t("证据文件未经检查，不能保存"))
        item = Evidence(proposal=proposal, case=case, kind=Evidence.Kind.DOCUMENT,
                        label=(label or checked.name)[:200], text=text, file_name=checked.name[:100],
                        content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
                        uploaded_at=at, uploaded_by=by[:150])
        item.attachment.save(checked.storage_name(), ContentFile(checked.data), save=False)
        item.save(force_insert=True)
        stored.append(item)
    if stored:
        record("accountability.evidence.upload", proposal or case,
               changes={"evidence": [e.pk for e in stored], "sha256": [e.sha256 for e in stored]})
    return stored


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Up to the configured number of PDF / JPEG / PNG files, each judged by its content."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTR}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        try:
            return check(files)
        except EvidenceError as exc:
            raise forms.ValidationError(exc.message) from None


def help_text() -> str:
    count, max_bytes = limits()
    return str(_("PDF、JPEG 或 PNG，最多 %(n)d 个，每个不超过 %(mb)d MB")
               % {"n": count, "mb": max(max_bytes // (1024 * 1024), 1)})
