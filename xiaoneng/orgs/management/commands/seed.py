"""`xiaoneng seed --scale demo|large|province`: build the demo province, then print the logins.

The steps live in `xiaoneng.orgs.seed` and in the `seed` module of any other app (see that
module's docstring); this command only discovers them, runs each in a transaction, writes
one audit entry per step (bulk inserts bypass the per-row audit signals), then ANALYZEs the
database on PostgreSQL (fresh planner statistics for the bulk-loaded tables) and prints.
"""
import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from xiaoneng.audit.log import acting_as, record
from xiaoneng.audit.models import AuditEntry
from xiaoneng.lib.pg import analyze
from xiaoneng.orgs import seed


class Command(BaseCommand):
    help = "生成演示省份（广东省真实区划、机关、人员和演示账号）；可重复运行，不会重复创建。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=seed.SCALES,
            default="demo",
            help="demo: 省、市全部机关和广州市各区机关（一分钟内完成）；large: 每个县区都有机关；"
            "province: large 再加全部乡镇（街道）政府",
        )
        parser.add_argument(
            "--cases", type=int, default=None, metavar="N",
            help="number of approval cases (demo: made through the workflow; large/province: bulk-loaded)",
        )
        parser.add_argument(
            "--only", default="", metavar="STEP,STEP",
            help="run only these steps (comma-separated names, e.g. regions,organs,people,users)",
        )

    def handle(self, *args, scale, only="", cases=None, **options):
        if cases is not None:
            if cases < 0:
                raise CommandError("--cases must not be negative")
            os.environ["XIAONENG_SEED_CASES"] = str(cases)  # read by xiaoneng.approvals.seed
        autodiscover_modules("seed")
        steps = seed.seed_steps()
        if only:
            wanted = {name.strip() for name in only.split(",") if name.strip()}
            unknown = wanted - {s.name for s in steps}
            if unknown:
                raise CommandError(f"unknown seed steps: {', '.join(sorted(unknown))}; "
                                   f"known: {', '.join(s.name for s in steps)}")
            steps = [s for s in steps if s.name in wanted]
        started = time.monotonic()
        with acting_as(None, channel=AuditEntry.Channel.COMMAND, label="seed"):
            for index, step in enumerate(steps, start=1):
                progress = seed.Progress(self.stdout.write, index, len(steps), step.name)
                t0 = time.monotonic()
                with transaction.atomic():
                    summary = step.fn(scale, progress) or ""
                    record("seed", object_type="seed", object_id=step.name, object_repr=summary[:200],
                           changes={"scale": scale}, region_code=seed.PROVINCE_CODE[:2])
                self.stdout.write(f"[{index}/{len(steps)}] {step.name}: {summary} ({time.monotonic() - t0:.1f}s)")
        # The seed bulk-loads (COPY, bulk_create): without fresh statistics the first pages and the
        # monitoring pass would be planned for empty tables, whether or not autovacuum runs.
        t0 = time.monotonic()
        if analyze():
            self.stdout.write(_("已更新数据库统计信息（ANALYZE，用时 %(sec).1f 秒）。") % {"sec": time.monotonic() - t0})
        self.stdout.write(_("演示数据已就绪（规模 %(scale)s，用时 %(sec).1f 秒）。") % {
            "scale": scale, "sec": time.monotonic() - started})
        self.stdout.write("")
        self.stdout.write(_("演示账号（统一密码 %(password)s）：") % {"password": seed.DEMO_PASSWORD})
        headers = (_("用户名"), _("角色"), _("范围"), _("密码"))
        self.stdout.write(seed.format_table(headers, seed.demo_logins()))
