from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xiaoneng.orgs import access

from .actions import DocumentError, do_issue_document, read_document
from .kinds import KINDS, SUBJECTS, kinds_for
from .models import Document


def readable_by(user, documents, perms):
    """The documents any grant of the user carrying one of `perms` reaches (the one scoping function each)."""
    parts = [access.scoped(documents, user, perm) for perm in perms if access.has_perm(user, perm)]
    if not parts:
        return documents.none()
    return documents.filter(pk__in=[pk for part in parts for pk in part.values_list("pk", flat=True)])


def record_documents(subject_type: str, subject, user) -> dict:
    """For a record's page: the documents issued on it that the user may read, and those he may issue now."""
    kinds = kinds_for(subject_type)
    base = f"{subject_type}:{subject.pk}"
    on_record = Document.objects.filter(Q(subject_key=base) | Q(subject_key__startswith=f"{base}:"))
    issued = {(doc.kind, doc.subject_key) for doc in on_record.only("kind", "subject_key")}
    issuable = []
    if SUBJECTS[subject_type].may_issue(user, subject):
        issuable = [kind for kind in kinds if kind.applies(subject) and (kind.code, kind.subject_key(subject)) not in issued]
    readable = readable_by(user, on_record, kinds[0].perms).order_by("issued_at", "pk") if issued else []
    return {"documents": list(readable), "issuable": issuable, "subject_type": subject_type, "subject_pk": subject.pk}


@require_POST
@login_required
def issue(request, kind: str, subject_type: str, pk: int):
    document_kind = KINDS.get(kind)
    subject = SUBJECTS.get(subject_type)
    if document_kind is None or subject is None or document_kind.subject_type != subject_type:
        raise Http404
    record = subject.load(request.user, pk)
    if not subject.may_issue(request.user, record):
        raise PermissionDenied
    try:
        document = do_issue_document(kind, record, actor=request.user)
    except DocumentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已制发%(title)s，文号 %(number)s。") % {"title": document.title,
                                                                       "number": document.number})
    return redirect(subject.url(record))


@require_GET
@login_required
def download(request, pk: int):
    document = Document.objects.filter(pk=pk).first()
    kind = KINDS.get(document.kind) if document else None
    if kind is None:
        raise Http404
    document = readable_by(request.user, Document.objects.filter(pk=pk), kind.perms).first()
    if document is None:
        raise Http404
    try:
        data = read_document(document)
    except (DocumentError, OSError) as exc:
        return HttpResponse(str(exc) if isinstance(exc, DocumentError) else _("文书文件缺失，请联系系统管理员。"),
                            status=410, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=\"document-{document.pk}.pdf\""
    return response
