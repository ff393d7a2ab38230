"""Issuing an official document: the one state change of this app."""
import hashlib
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current, record

from .kinds import KINDS, Issuer
from .models import Document, DocumentSequence
from .render import render_pdf


class DocumentError(Exception):
    """A document that cannot be issued now, with the reason in the user's language."""


def next_number(issuer: Issuer, year: int, word: str) -> tuple[int, str]:
    """The issuer's next serial under `word` in `year`, and the number as written: 穗天市监受〔2026〕12号.

    The sequence row is locked until the caller's transaction ends, so two documents never share
    a number; issuers and words never wait for each other.
    """
    sequence, _created = DocumentSequence.objects.get_or_create(issuer_key=issuer.key, year=year, word=word)
    sequence = DocumentSequence.objects.select_for_update().get(pk=sequence.pk)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last, f"{issuer.short}{word}〔{year}〕{sequence.last}号"


def do_issue_document(kind_code: str, subject, *, actor=None, at: datetime | None = None) -> Document:
    """Issue the document of `kind_code` on `subject`, or return the one already issued.

    1. Refuse a kind that does not exist or does not apply to the record as it stands.
    2. The same document asked for again (a double click, a replay) is the one issued before.
    3. Take the organ's next number for the year, render the PDF with it, store file and hash.
    """
    kind = KINDS.get(kind_code)
    if kind is None:
        raise DocumentError(_("没有这种文书。"))
    if not kind.applies(subject):
        raise DocumentError(_("“%(title)s”在当前办理阶段不能制发。") % {"title": kind.title})
    key = kind.subject_key(subject)
    existing = Document.objects.filter(kind=kind.code, subject_key=key).first()
    if existing is not None:
        return existing
    at = at or timezone.now()
    organ = kind.organ(subject)
    issuer = kind.issuer(subject)
    try:
        # Documents are official acts in Chinese, whatever language the issuer reads the pages in.
        with translation.override("zh-hans"), transaction.atomic():
            year = timezone.localtime(at).year
            preset = kind.preset_number(subject)
            # A record signed under its own number keeps it (serial 0: outside the sequence).
            serial, number = (0, preset) if preset else next_number(issuer, year, kind.word)
            content = kind.content(subject)
            pdf = render_pdf(organ_name=issuer.name, number=number, title=str(kind.title), content=content,
                             issued_at=at, legal_basis=str(kind.legal_basis))
            digest = hashlib.sha256(pdf).hexdigest()
            ctx = current()
            document = Document(
                kind=kind.code, title=str(kind.title), issuer_key=issuer.key, issuer_name=issuer.name, organ=organ, region_code=organ.region_code, year=year,
                serial=serial, number=number, subject_key=key, subject_label=kind.subject_label(subject)[:120],
                addressee=content.addressee[:200], issued_at=at, sha256=digest,
                body={"paragraphs": content.paragraphs, "items": content.items, "closing": content.closing,
                      "facts": [list(fact) for fact in content.facts],
                      **({"tables": content.tables} if content.tables else {})},
                issued_by=actor if getattr(actor, "pk", None) else ctx.actor,
                issued_by_label=(getattr(actor, "display_name", "") or getattr(actor, "username", "") or ctx.label)[:150],
            )
            # A rolled-back issue may leave its file behind; the row is the record, and a file no row
            # names is never served.
            document.file.save(f"{issuer.key.replace(':', '-')}-{kind.word}-{year}-{serial}-{digest[:12]}.pdf", ContentFile(pdf), save=False)
            document.save(force_insert=True)
            record("document.issue", document, changes={"number": number, "kind": kind.code, "subject": key,
                                                        "sha256": digest})
    except IntegrityError:
        # Someone issued the same document in the same moment: theirs stands.
        existing = Document.objects.filter(kind=kind.code, subject_key=key).first()
        if existing is None:
            raise
        return existing
    return document


def read_document(document: Document) -> bytes:
    """The stored bytes, refused if they are not the ones issued."""
    with document.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise DocumentError(_("文书文件与制发时的记录不一致，已拒绝提供，请联系系统管理员。"))
    return data
