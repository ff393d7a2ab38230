"""`xiaoneng orgs import-regions|import-organs|export-regions|export-organs FILE`.

Imports are all-or-nothing (see xiaoneng.orgs.imports): on any error the command lists
every bad row on stderr and exits with status 1, without a traceback and without writing.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiaoneng.audit.log import acting_as
from xiaoneng.audit.models import AuditEntry
from xiaoneng.lib.codes import normalise_region_code, region_code_error, region_level
from xiaoneng.orgs import imports
from xiaoneng.orgs.models import PREFIX_LENGTH, Organ, Region

IMPORTS = {"import-regions": imports.import_regions, "import-organs": imports.import_organs}
HELP = {
    "import-regions": "从 Excel 导入行政区划（全部正确才写入）",
    "import-organs": "从 Excel 导入机关单位（全部正确才写入）",
    "export-regions": "把行政区划导出为 Excel",
    "export-organs": "把机关单位导出为 Excel",
}
EXPORTS = {"export-regions": (Region, "prefix", imports.regions_workbook),
           "export-organs": (Organ, "region_code", imports.organs_workbook)}


class Command(BaseCommand):
    help = "行政区划和机关单位的 Excel 导入、导出。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        for name in IMPORTS:
            sub = actions.add_parser(name, help=HELP[name])
            sub.add_argument("file")
            sub.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        for name in EXPORTS:
            sub = actions.add_parser(name, help=HELP[name])
            sub.add_argument("file")
            sub.add_argument("--under", metavar="REGION_CODE", help="只导出该区划及其下级（如 440100）")

    def handle(self, *args, action, file, **options):
        with acting_as(None, channel=AuditEntry.Channel.COMMAND, label=f"orgs {action}"):
            if action in IMPORTS:
                self._import(IMPORTS[action], Path(file), options["dry_run"])
            else:
                self._export(*EXPORTS[action], Path(file), options["under"])

    def _import(self, importer, path: Path, dry_run: bool) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("无法读取文件 %(file)s：%(reason)s") % {"file": path, "reason": exc.strerror}) from None
        report = importer(data, dry_run=dry_run)
        if not report.ok:
            for error in report.errors:
                if error.row is not None:  # a whole-file error is the summary itself
                    self.stderr.write(str(error))
            raise CommandError(report.summary())
        self.stdout.write(report.summary())

    def _export(self, model, region_field: str, workbook, path: Path, under: str | None) -> None:
        queryset = model.objects.all()
        if under:
            error = region_code_error(under)
            if error:
                raise CommandError(error)
            code = normalise_region_code(under)
            queryset = queryset.filter(**{f"{region_field}__under": code[: PREFIX_LENGTH[region_level(code)]]})
        try:
            path.write_bytes(workbook(queryset))
        except OSError as exc:
            raise CommandError(_("无法写入文件 %(file)s：%(reason)s") % {"file": path, "reason": exc.strerror}) from None
        self.stdout.write(_("已导出 %(n)d 行到 %(file)s") % {"n": queryset.count(), "file": path})
