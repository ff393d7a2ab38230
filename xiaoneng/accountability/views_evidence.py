"""Download of an evidence file: for readers of its proposal or case only, checked and audited."""
from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _t
from django.views.decorators.http import require_GET

from xiaoneng.audit.log import record
from xiaoneng.lib.uploads import EXTENSIONS

from .models import Case, Evidence, Proposal
from .views import visible


@require_GET
@login_required
def evidence_file(request, pk: int):
    """One evidence file; 404 unless the user may see its proposal (or case) — exactly as for a missing one."""
    item = Evidence.objects.filter(pk=pk).exclude(attachment="").first()
    if item is None:
        raise Http404
    owner = (visible(Proposal.objects.filter(pk=item.proposal_id), request.user).first() if item.proposal_id
             else visible(Case.objects.filter(pk=item.case_id), request.user).first())
    if owner is None or item.content_type not in EXTENSIONS:
        raise Http404
    with item.attachment.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != item.sha256:
        return HttpResponse(_t("证据文件与上传时的记录不一致，已拒绝提供。"), status=410,
                            content_type="text/plain; charset=utf-8")
    # Evidence often shows people: who opened which file is on the audit chain.
    record("accountability.evidence.read", owner, changes={"evidence": item.pk})
    response = HttpResponse(data, content_type=item.content_type)
    response["Content-Disposition"] = f'attachment; filename="evidence-{item.pk}{EXTENSIONS[item.content_type]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
