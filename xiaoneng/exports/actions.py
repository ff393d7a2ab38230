"""Background exports: asking for one, claiming and running it, cleaning up old files.

The no-broker pattern of the other loops: jobs are rows; a worker claims the oldest queued job
(or a running one whose worker stopped beating) with SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL, or a conditional UPDATE on SQLite (one writer at a time), so two workers never run
the same job at once. A worker killed mid-export leaves only a `.part` file that nobody serves;
the next claimer removes it and starts again. The file is renamed into place and recorded in one
step at the end, so a job in state `done` always points at a complete file with its sha256.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import os
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest, QueryDict
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.conf import rule

from .models import Export
from .sheet import SheetWriter, row_formatter

log = logging.getLogger(__name__)
State = Export.State
MAX_QUERY = 2000
# Parameters of a list URL that are about the page, not the rows: never part of an export.
PAGE_ONLY = ("export", "page", "per_page")


class ExportError(Exception):
    """An export that cannot be asked for or run, with the reason in the user's language."""


def export_dir() -> Path:
    path = Path(os.environ.get("XIAONENG_EXPORT_DIR") or getattr(settings, "XIAONENG_EXPORT_DIR", "")
                or Path(settings.MEDIA_ROOT) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- the list a job exports ---------------------------------------------------------------
def list_page(list_name: str):
    """The ListPage class served under URL name `list_name`, its path and match; ExportError otherwise."""
    from xiaoneng.web.lists import ListPage

    unknown = ExportError(_("没有可导出的列表“%(name)s”。") % {"name": list_name[:80]})
    try:
        path = reverse(list_name)
        match = resolve(path)
    except (NoReverseMatch, Resolver404) as exc:
        raise unknown from exc
    cls = getattr(match.func, "view_class", None)
    if cls is None or not issubclass(cls, ListPage):
        raise unknown
    return cls, path, match


def clean_query(query: str) -> str:
    """The query string without page-only parameters; ExportError if it is too long or malformed."""
    if len(query) > MAX_QUERY:
        raise ExportError(_("筛选条件过长（超过 %(n)d 个字符）。") % {"n": MAX_QUERY})
    try:
        data = QueryDict(query, mutable=True)
    except Exception as exc:  # noqa: BLE001 - any undecodable query string is the same bad input
        raise ExportError(_("筛选条件无法解析。")) from exc
    for key in PAGE_ONLY:
        data.pop(key, None)
    # An empty parameter is an empty filter, as if absent: the same export asked twice is one job.
    return urlencode([(k, v) for k, vs in data.lists() for v in vs if v != ""])


def list_view(list_name: str, query: str, user):
    """The list page as `user` would open it with `query`: the same scope, filters and sort."""
    cls, path, match = list_page(list_name)
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.GET = QueryDict(query)
    request.META["QUERY_STRING"] = query
    request.user = user
    request.resolver_match = match
    view = cls()
    view.setup(request, *match.args, **match.kwargs)
    return view


def form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label or name}：{'；'.join(str(e) for e in errors)}")
    return "；".join(parts)


def scoped_rows(view):
    """(form, queryset) of the view; ExportError if the filters are not valid for this user."""
    form, queryset, _sort = view.filtered()
    if not form.is_valid():
        raise ExportError(_("筛选条件无效：%(errors)s") % {"errors": form_errors(form)})
    return form, queryset


# -- asking for an export ------------------------------------------------------------------
def do_request_export(user, list_name: str, query: str = "") -> Export:
    """Queue an export of list `list_name` with the page's `query`, or return the same one still queued.

    1. Refuse a user who is not logged in, a list that does not exist, filters the page would refuse.
    2. A second click while the same export (same list and filters) waits or runs gives that job.
    3. Create the job (audited: an export takes data out of the platform) for the loop to run.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise ExportError(_("请先登录。"))
    query = clean_query(query)
    view = list_view(list_name, query, user)
    scoped_rows(view)
    with transaction.atomic():
        same = Export.objects.filter(user=user, list_name=list_name, query=query,
                                     state__in=[State.QUEUED, State.RUNNING]).first()
        if same is not None:
            return same
        job = Export.objects.create(user=user, list_name=list_name, query=query,
                                    title=str(view.export_name)[:100])
        record("export.requested", job, changes={"list": list_name, "query": query})
    return job


def page_export(view, queryset):
    """What a list's `?export=xlsx` does: None (answer at once) below the threshold, else a new job."""
    threshold = int(rule("export_background_rows"))
    if threshold < 0 or queryset.count() < threshold:
        return None
    return do_request_export(view.request.user, view.request.resolver_match.view_name,
                             view.request.META.get("QUERY_STRING", ""))


# -- the loop ------------------------------------------------------------------------------
def _skip_locked(qs):
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs  # SQLite: one writer at a time, and the conditional update below decides


def claim_next(worker: str, now=None) -> Export | None:
    """Claim the oldest job that is queued, or running under a worker whose heartbeat is stale."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=float(rule("export_stale_seconds")))
    with transaction.atomic():
        candidates = Export.objects.filter(
            Q(state=State.QUEUED) | Q(state=State.RUNNING, heartbeat_at__lt=stale)
        ).order_by("created_at", "pk")
        job = _skip_locked(candidates).first()
        if job is None:
            return None
        if job.attempts >= int(rule("export_max_attempts")):
            Export.objects.filter(pk=job.pk).update(
                state=State.FAILED, finished_at=now, claimed_by="",
                error=_("导出多次中断，已停止重试（共 %(n)d 次）。") % {"n": job.attempts})
            _remove_parts(job.pk)
            return claim_next(worker, now)
        claimed = Export.objects.filter(pk=job.pk, state=job.state, claimed_by=job.claimed_by,
                                        heartbeat_at=job.heartbeat_at).update(
            state=State.RUNNING, claimed_by=worker, heartbeat_at=now, started_at=now, rows_done=0,
            attempts=F("attempts") + 1, error="")
        if claimed != 1:
            return None
    job.refresh_from_db()
    return job


def _remove_parts(pk: int) -> None:
    for part in export_dir().glob(f"{pk}.*.part"):
        part.unlink(missing_ok=True)


def _beat(job: Export, **fields) -> bool:
    """Record progress and heartbeat; False if the job is no longer ours (taken over as stale)."""
    return Export.objects.filter(pk=job.pk, claimed_by=job.claimed_by, state=State.RUNNING).update(
        heartbeat_at=timezone.now(), **fields) == 1


def run_job(job: Export) -> Export:
    """Write the job's rows to `<pk>.<worker>.part`, then rename it into place and record it."""
    from django.utils import translation

    _remove_parts(job.pk)  # what a killed worker left of this job
    part = export_dir() / f"{job.pk}.{os.getpid()}-{job.attempts}.part"
    try:
        with translation.override(settings.LANGUAGE_CODE):
            view = list_view(job.list_name, job.query, job.user)
            if not job.user.is_active:
                raise ExportError(_("账号已停用。"))
            _form, queryset = scoped_rows(view)
            total = queryset.count()
            if not _beat(job, rows_total=total):
                return job
            headers, rows = view.export_table(queryset)
            every = max(1, int(rule("export_progress_rows")))
            done = 0
            kinds = getattr(view, "export_kinds", None)
            with SheetWriter(part, str(view.export_name), headers) as writer:
                write = (partial(writer.write_formatted, fmt=row_formatter(kinds, writer.zone)) if kinds
                         else writer.write_values)
                rows = iter(rows)
                while chunk := list(itertools.islice(rows, 2000)):
                    write(chunk)
                    before, done = done, done + len(chunk)
                    if done // every != before // every and not _beat(job, rows_done=done):
                        raise _Lost
        digest = hashlib.sha256()
        with open(part, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        final = export_dir() / f"{job.pk}-{digest.hexdigest()[:16]}.xlsx"
        os.replace(part, final)
        now = timezone.now()
        with transaction.atomic():
            won = Export.objects.filter(pk=job.pk, claimed_by=job.claimed_by, state=State.RUNNING).update(
                state=State.DONE, rows_done=done, rows_total=done, file=final.name, size=final.stat().st_size,
                sha256=digest.hexdigest(), finished_at=now, heartbeat_at=now,
                expires_at=now + timedelta(days=float(rule("export_keep_days"))))
            if won:
                job.refresh_from_db()
                transaction.on_commit(lambda: notify_done(job))
            else:
                final.unlink(missing_ok=True)
    except _Lost:
        part.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - a failed export is recorded, never kills the loop
        part.unlink(missing_ok=True)
        message = str(exc) if isinstance(exc, ExportError) else _("导出出错：%(error)s") % {"error": exc}
        log.exception("export %s failed", job.pk) if not isinstance(exc, ExportError) else None
        Export.objects.filter(pk=job.pk, claimed_by=job.claimed_by).update(
            state=State.FAILED, error=message[:500], finished_at=timezone.now())
        job.refresh_from_db()
    return job


class _Lost(Exception):
    """Another worker took the job over (ours looked dead): stop without writing anything."""


def notify_done(job: Export) -> None:
    """Tell the requester the file is ready (one place, to switch to the staff inbox when it lands)."""
    from xiaoneng.notify.outbox import queue

    text = _("您申请的导出“%(title)s”已完成，共 %(rows)d 行，请在“我的导出”中下载。") % {
        "title": job.title, "rows": job.rows_done}
    if job.user.email:
        queue(to=job.user.email, text=text, kind="export.done", ref=f"export:{job.pk}", channel="email")


def do_cleanup_exports(now=None) -> int:
    """Delete the files of exports past their expiry (the job stays, marked expired); count them."""
    now = now or timezone.now()
    expired = list(Export.objects.filter(state=State.DONE, expires_at__lte=now).exclude(file=""))
    for job in expired:
        (export_dir() / job.file).unlink(missing_ok=True)
    Export.objects.filter(pk__in=[j.pk for j in expired]).update(file="", size=0)
    return len(expired)


def run_round(worker: str, limit: int = 10) -> int:
    """One round of the loop: clean up, then run up to `limit` jobs one after the other."""
    do_cleanup_exports()
    ran = 0
    while ran < limit and (job := claim_next(worker)) is not None:
        run_job(job)
        ran += 1
    return ran
