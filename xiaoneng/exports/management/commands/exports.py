"""`xiaoneng exports run [--every SECONDS] [--limit N]` and `xiaoneng exports cleanup`.

`run` claims queued background exports (and those of a worker that died: stale heartbeat) and
writes their files, after removing expired ones; with `--every` it keeps running, one round every
SECONDS, until stopped (SIGTERM or Ctrl-C end it between rounds; a job in progress is finished
first). Start as many as you like: each job is claimed by one of them.
"""
import os
import socket

from django.core.management.base import BaseCommand

from xiaoneng.exports import actions
from xiaoneng.lib.rounds import repeat


class Command(BaseCommand):
    help = ("后台导出：run 生成排队中的导出文件（--every 持续运行）；cleanup 删除过期文件。"
            "Background exports: `exports run` writes queued exports (`--every SECONDS` keeps running); "
            "`exports cleanup` deletes expired files.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "cleanup"])
        parser.add_argument("--limit", type=int, default=10, help="at most this many jobs per round (default 10)")
        parser.add_argument("--every", type=float, metavar="SECONDS", help="run: keep running, one round every SECONDS")

    def handle(self, *args, action, limit, every=None, **options):
        if action == "cleanup":
            self.stdout.write(f"expired {actions.do_cleanup_exports()}")
            return
        worker = f"{socket.gethostname()}:{os.getpid()}"[:100]

        def round_(_n):
            ran = actions.run_round(worker, limit=limit)
            if not every or ran:
                self.stdout.write(f"exports run {ran}")
                self.stdout.flush()

        repeat(round_, every)
