"""我的导出: the user's export jobs with their progress, and the download of a finished file.

Every view answers only for the requester's own jobs: anyone else gets 404, as for a job that
does not exist, so a job number reveals nothing.
"""
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from xiaoneng.conf import rule

from .actions import ExportError, do_request_export, export_dir, page_export
from .models import Export


def export_or_queue(view, queryset):
    """For ListPage.export: None to export at once, or the response that queues a background job."""
    try:
        job = page_export(view, queryset)
    except ExportError as exc:
        return render(view.request, "exports/refused.html", {"error": str(exc)}, status=400)
    if job is None:
        return None
    return redirect(f"{reverse('exports:index')}?job={job.pk}")


@login_required
def index(request):
    jobs = list(Export.objects.filter(user=request.user)[:50])
    return render(request, "exports/index.html", {"jobs": jobs, "new": request.GET.get("job", ""),
                                                  "now": timezone.now(),
                                                  "keep_days": rule("export_keep_days")})


@login_required
def row(request, pk: int):
    job = get_object_or_404(Export, pk=pk, user=request.user)
    return render(request, "exports/_row.html", {"job": job, "now": timezone.now()})


@login_required
@require_POST
def start(request):
    """Queue an export of a list with its filters (the form on 我的导出 and scripts)."""
    try:
        job = do_request_export(request.user, request.POST.get("list", ""), request.POST.get("query", ""))
    except ExportError as exc:
        return render(request, "exports/refused.html", {"error": str(exc)}, status=400)
    return redirect(f"{reverse('exports:index')}?job={job.pk}")


@login_required
def download(request, pk: int):
    job = get_object_or_404(Export, pk=pk, user=request.user, state=Export.State.DONE)
    if not job.file or (job.expires_at and job.expires_at <= timezone.now()):
        raise Http404
    path = export_dir() / job.file
    if not path.exists():
        raise Http404
    stamp = timezone.localtime(job.finished_at).strftime("%Y%m%d-%H%M")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{job.title}-{stamp}.xlsx",
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
