"""`xiaoneng matters import FILE` / `xiaoneng matters export FILE`: the matter catalogue in Excel.

The import is all-or-nothing (see xiaoneng.approvals.imports): on any error the command
lists every bad row on stderr and exits with status 1, without a traceback and without
writing. A row whose rules differ from the version in force publishes a new version;
an unchanged row is left alone, so importing an export changes nothing.
"""
from datetime import datetime, time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.approvals import imports
from xiaoneng.approvals.models import Matter
from xiaoneng.audit.log import acting_as
from xiaoneng.audit.models import AuditEntry
from xiaoneng.lib.codes import credit_code_error, normalise_region_code, region_code_error, region_level
from xiaoneng.orgs.models import PREFIX_LENGTH


def _moment(text: str) -> datetime:
    """`2026-10-01` (start of that day) or `2026-10-01T08:00`, in the configured time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(_("生效时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM：%(value)s") % {"value": text}) from None
    if len(text.strip()) == 10:
        value = datetime.combine(value.date(), time(0))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


class Command(BaseCommand):
    help = "事项目录的 Excel 导入、导出（两个工作表：事项、环节）。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub = actions.add_parser("import", help="从 Excel 导入事项目录（全部正确才写入；规则有变化的事项发布新版本）")
        sub.add_argument("file")
        sub.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        sub.add_argument("--effective-from", metavar="DATE", help="新事项和新版本的生效时间（默认立即生效，不得早于现在）")
        sub = actions.add_parser("export", help="把事项目录（各事项的现行版本）导出为 Excel")
        sub.add_argument("file")
        sub.add_argument("--under", metavar="REGION_CODE", help="只导出该区划及其下级机关的事项（如 440100）")
        sub.add_argument("--organ", metavar="CREDIT_CODE", help="只导出该机关的事项")

    def handle(self, *args, action, file, **options):
        with acting_as(None, channel=AuditEntry.Channel.COMMAND, label=f"matters {action}"):
            if action == "import":
                self._import(Path(file), options["dry_run"], options.get("effective_from"))
            else:
                self._export(Path(file), options.get("under"), options.get("organ"))

    def _import(self, path: Path, dry_run: bool, effective_from: str | None) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("无法读取文件 %(file)s：%(reason)s") % {"file": path, "reason": exc.strerror}) from None
        report = imports.import_matters(
            data, dry_run=dry_run, effective_from=_moment(effective_from) if effective_from else None
        )
        if not report.ok:
            for error in report.errors:
                if error.row is not None:  # a whole-file error is the summary itself
                    self.stderr.write(str(error))
            raise CommandError(report.summary())
        self.stdout.write(report.summary())

    def _export(self, path: Path, under: str | None, organ: str | None) -> None:
        queryset = Matter.objects.all()
        if under:
            error = region_code_error(under)
            if error:
                raise CommandError(error)
            code = normalise_region_code(under)
            queryset = queryset.filter(organ__region_code__under=code[: PREFIX_LENGTH[region_level(code)]])
        if organ:
            error = credit_code_error(organ.strip())
            if error:
                raise CommandError(error)
            queryset = queryset.filter(organ__credit_code=organ.strip())
        try:
            path.write_bytes(imports.catalogue_workbook(queryset))
        except OSError as exc:
            raise CommandError(_("无法写入文件 %(file)s：%(reason)s") % {"file": path, "reason": exc.strerror}) from None
        self.stdout.write(_("已导出 %(n)d 个事项到 %(file)s") % {"n": queryset.filter(current__isnull=False).count(), "file": path})
