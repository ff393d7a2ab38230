"""Kinds of official documents: what each says, to whom, when it may be issued, its number word.

Each kind is a small class in the module of the capability it serves (`kinds.approvals`, …)
and registers itself here; nothing else switches on a kind's code.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS: dict[str, DocumentKind] = {}
SUBJECTS: dict[str, Subject] = {}


@dataclass(frozen=True)
class Subject:
    """A kind of record documents are issued on: how to load it for a user, and who may issue."""

    load: Callable  # (user, pk) -> the record, or Http404 outside the user's scope
    may_issue: Callable  # (user, record) -> bool
    url: Callable  # (record) -> the record's page


@dataclass
class Content:
    """What a document says: the addressee, numbered or plain paragraphs, and its facts table."""

    addressee: str
    paragraphs: list[str]
    items: list[str] = field(default_factory=list)  # a numbered list after the first paragraph
    closing: list[str] = field(default_factory=list)  # paragraphs after the list
    facts: list[tuple[str, str]] = field(default_factory=list)
    # Tables after the body (a report's rankings): each {"caption", "headers": [...], "rows": [[...], ...]}.
    tables: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Issuer:
    key: str  # organ:<id> or office:<region prefix>; numbers run per issuer
    name: str  # printed in red at the head and over the seal
    short: str  # opens the document number


class DocumentKind(ABC):
    """A kind of document; `register` instantiates each concrete kind once, so a kind missing
    `applies` or `content` fails at start-up, not when a document is issued."""

    code = ""  # e.g. "case.accept"
    title = ""  # 受理通知书
    word = ""  # the number word: 穗天市监受〔2026〕12号
    subject_type = ""  # "case", "complaint", …
    perms: tuple[str, ...] = ()  # any of these, in scope of the document's organ or region, reads it
    legal_basis = ""

    @abstractmethod
    def applies(self, subject) -> bool:
        """Whether the record is at a point where this document may be issued."""

    def subject_key(self, subject) -> str:
        """One document per kind and key: the record, or the record's event it announces."""
        return f"{self.subject_type}:{subject.pk}"

    def subject_label(self, subject) -> str:
        return str(subject)

    def organ(self, subject):
        """The organ the document concerns: it places the document in scope."""
        return subject.organ

    def issuer(self, subject) -> Issuer:
        """Who issues and numbers it: by default the organ concerned."""
        organ = self.organ(subject)
        return Issuer(key=f"organ:{organ.pk}", name=organ.name, short=organ.short_name or organ.name)

    def preset_number(self, subject) -> str:
        """A number the record already carries (a decision signed under its own 文号), used instead of
        the issuer's next serial; "" to number from the sequence."""
        return ""

    @abstractmethod
    def content(self, subject) -> Content:
        """What the document says about the record as it stands."""


def register(kind_class: type[DocumentKind]) -> type[DocumentKind]:
    KINDS[kind_class.code] = kind_class()
    return kind_class


def kinds_for(subject_type: str) -> list[DocumentKind]:
    return [kind for kind in KINDS.values() if kind.subject_type == subject_type]
