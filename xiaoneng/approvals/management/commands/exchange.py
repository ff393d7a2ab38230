"""`xiaoneng exchange import FILE [--source CODE]`, `process-held`, `reprocess [BATCH_ID…]`.

* import — JSON Lines or CSV (format from the extension, or --format), through the
  same pipeline as the API, in stored batches; every event that is not accepted is
  listed on stderr with its line/row number, field and reason; exit status 1 when
  any event was rejected (the good ones are applied all the same).
* process-held — reprocess batches a crash left unprocessed, retry every held event
  (oldest first), flag those held longer than `exchange_hold_hours` as expired.
  Meant to run every few minutes (cron or a loop); safe to run several at once.
* reprocess — process stored batches again (by id, or every unprocessed one).
"""
import argparse
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiaoneng.approvals.exchange import files, pipeline
from xiaoneng.approvals.models import ExchangeBatch, ExchangeSource


def _minutes(value: str) -> float:
    """A number of minutes a timedelta can hold (not nan, not 1e300), at most ten years."""
    try:
        minutes = float(value)
    except ValueError:
        minutes = float("nan")
    if not 0 <= minutes <= 10 * 366 * 24 * 60:  # false for nan too
        raise argparse.ArgumentTypeError(_("应为 0 到 5270400 之间的分钟数，而不是“%(value)s”") % {"value": value})
    return minutes


def _batch_id(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 2**63:
        raise argparse.ArgumentTypeError(_("批次编号应为正整数，而不是“%(value)s”") % {"value": value})
    return int(value)


class Command(BaseCommand):
    help = "数据交换：import 导入事件文件（JSON Lines / CSV）；process-held 处理等待中的事件；reprocess 重新处理批次。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = sub.add_parser("import", help="导入事件文件 / import a JSON Lines or CSV file of events")
        imp.add_argument("file")
        imp.add_argument("--source", help="来源编码（只有一个来源时可省略）")
        imp.add_argument("--format", choices=["jsonl", "csv"], help="默认按扩展名判断")
        imp.add_argument("--encoding", default="utf-8", help="文件编码，默认 UTF-8（GBK 文件用 gb18030）")
        imp.add_argument("--per-event", action="store_true", help="不走批量快速路径（排查问题用）")
        held = sub.add_parser("process-held", help="重试等待中的事件，标记超时的事件，重新处理未完成的批次")
        held.add_argument("--older-than-minutes", type=_minutes, default=5,
                          help="只重新处理接收超过这么多分钟仍未处理的批次（默认 5）")
        again = sub.add_parser("reprocess", help="重新处理批次（默认：所有未处理的批次）")
        again.add_argument("batch", nargs="*", type=_batch_id)

    def handle(self, *args, action, **options):
        if action == "import":
            self.do_import(**options)
        elif action == "process-held":
            outcome = pipeline.process_held(older_than=timedelta(minutes=options["older_than_minutes"]))
            self.stdout.write(
                _("重新处理批次 %(batches)d 个；应用等待中的事件 %(applied)d 条，拒收 %(rejected)d 条，"
                  "标记超时 %(expired)d 条；仍在等待 %(held)d 条") % outcome
            )
        else:
            batches = (ExchangeBatch.objects.filter(pk__in=options["batch"]) if options["batch"]
                       else pipeline.unprocessed(timedelta(0)))
            for batch in batches.order_by("id"):
                receipt = pipeline.reprocess(batch)
                self.stdout.write(f"batch {batch.pk}: {receipt.status} {self._counts(receipt.body)}")

    @staticmethod
    def _counts(body: dict) -> str:
        if "results" not in body:
            return body.get("detail", "")
        return _("已应用 %(accepted)d，等待 %(held)d，重复 %(duplicate)d，拒收 %(rejected)d") % body

    def _source(self, code: str | None) -> ExchangeSource:
        if code:
            source = ExchangeSource.objects.filter(code=code).first()
            if source is None:
                raise CommandError(_("没有编码为 %(code)s 的数据交换来源") % {"code": code})
            return source
        active = list(ExchangeSource.objects.filter(is_active=True)[:2])
        if len(active) != 1:
            raise CommandError(_("请用 --source 指定数据交换来源"))
        return active[0]

    def do_import(self, *, file, source, format, encoding, per_event, **_options):
        source = self._source(source)
        if not source.is_active:
            raise CommandError(_("来源 %(code)s 已停用") % {"code": source.code})
        path = Path(file)
        try:
            fmt = files.detect_format(path.name, format)
            text = files.decode(path.read_bytes(), encoding)
            chunks = list(files.batches(text, fmt, pipeline.max_events()))
        except OSError as exc:
            raise CommandError(_("无法读取文件 %(file)s：%(reason)s") % {"file": path, "reason": exc.strerror}) from None
        except files.FileError as exc:
            raise CommandError(f"{path}: {exc}") from None
        totals = dict.fromkeys(("accepted", "held", "duplicate", "rejected"), 0)
        for raw, items, extra in chunks:
            receipt = pipeline.receive_items(source, raw, items, extra={**extra, "file": path.name[:200]},
                                             fast=not per_event)
            if receipt.status != 200:
                raise CommandError(f"{path}: batch {receipt.batch.pk if receipt.batch else '-'}: "
                                   f"{receipt.body.get('detail', '')}")
            for r in receipt.body["results"]:
                totals[r["result"]] += 1
                if r["result"] != "accepted":
                    self.stderr.write(
                        _("%(file)s 第 %(n)d 行 %(id)s：%(result)s %(field)s %(reason)s") % {
                            "file": path.name, "n": r["index"], "id": r["event_id"] or "-",
                            "result": r["result"], "field": r["field"] or "", "reason": r["reason"] or ""}
                    )
        summary = _("%(file)s：%(n)d 条事件，已应用 %(accepted)d，等待 %(held)d，重复 %(duplicate)d，拒收 %(rejected)d") % {
            "file": path.name, "n": sum(totals.values()), **totals}
        if totals["rejected"]:
            raise CommandError(summary)
        self.stdout.write(summary)
