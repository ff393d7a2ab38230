"""Official documents (公文) issued on a record: the PDF as sent, its number and what it says.

A document is issued once for what it answers (`subject_key`: the case and, for a notice
that can recur such as a suspension, the event it announces) and never changes after:
downloading it again gives the very bytes that were sent, checked against `sha256`.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.lib.refs import reference
from xiaoneng.orgs.models import Organ


class DocumentSequence(models.Model):
    """The last serial number an issuer gave in a year under one number word (受, 补, 督 …).

    The issuer is an organ (`organ:<id>`) or a region's efficiency office (`office:<region prefix>`).
    """

    issuer_key = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    word = models.CharField(max_length=8)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer_key", "year", "word"], name="document_sequence_once")]


class Document(models.Model):
    kind = models.CharField(_("文书种类"), max_length=30)
    title = models.CharField(_("标题"), max_length=60)
    issuer_key = models.CharField(max_length=40, editable=False)
    issuer_name = models.CharField(_("发文机关"), max_length=200)
    # The organ the document concerns, which places it in scope (for a case, also its issuer).
    organ = reference(Organ, verbose_name=_("相关机关"), on_delete=models.PROTECT, db_index=False)
    region_code = models.CharField(max_length=12, editable=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    serial = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("文号"), max_length=80)
    subject_key = models.CharField(max_length=80, editable=False)
    subject_label = models.CharField(_("事由"), max_length=120)
    addressee = models.CharField(_("主送"), max_length=200)
    body = models.JSONField(_("正文"), default=dict)
    file = models.FileField(_("文件"), upload_to="documents/%Y/")
    sha256 = models.CharField(max_length=64, editable=False)
    issued_at = models.DateTimeField(_("成文日期"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("制发人"), null=True, blank=True,
                                  on_delete=models.PROTECT, db_index=False, related_name="+")
    issued_by_label = models.CharField(_("制发人"), max_length=150)

    class Meta:
        verbose_name = _("公文")
        verbose_name_plural = _("公文")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer_key", "number"], name="document_number_once_per_issuer"),
            models.UniqueConstraint(fields=["kind", "subject_key"], name="document_once_per_subject"),
        ]
        indexes = [models.Index(fields=["subject_key"], name="document_subject")]

    def __str__(self):
        return f"{self.title} {self.number}"
