"""A document as a PDF laid out after GB/T 9704 (党政机关公文格式): A4, the issuing organ in red
over a red rule, the number, the title, the addressee, the body, the organ's name, the date
written in full and an area for the seal.

Documents are always in Chinese, whatever language the person issuing them reads the pages in:
they are official acts addressed to the public.
"""
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .kinds import Content


def date_in_words(moment) -> str:
    local = timezone.localtime(moment)
    return _("%(y)d年%(m)d月%(d)d日") % {"y": local.year, "m": local.month, "d": local.day}


def render_html(*, organ_name: str, number: str, title: str, content: Content, issued_at, legal_basis: str) -> str:
    with translation.override("zh-hans"):
        return render_to_string("documents/official.html", {
            "organ_name": organ_name, "number": number, "title": title, "content": content,
            "date": date_in_words(issued_at), "legal_basis": legal_basis,
        })


def render_pdf(**kwargs) -> bytes:
    # WeasyPrint loads Pango and fonts on import (about a second): only when a document is made.
    import weasyprint

    return weasyprint.HTML(string=render_html(**kwargs)).write_pdf()
