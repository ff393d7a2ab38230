import secrets

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xiaoneng.audit.log import checkpoint, verify
from xiaoneng.lib.rounds import repeat


class Command(BaseCommand):
    help = ("Audit log tools. `audit verify` checks every chain and checkpoint and names the first broken entry; "
            "`audit checkpoint [--every SECONDS]` signs every chain's head (and appends it to "
            "XIAONENG_AUDIT_CHECKPOINT_FILE); `audit new-key` prints a new XIAONENG_AUDIT_KEY.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint", "new-key"])
        parser.add_argument("--every", type=float, default=None, help="checkpoint: repeat every SECONDS until stopped")
        parser.add_argument("--file", default=None, help="the checkpoint file (default XIAONENG_AUDIT_CHECKPOINT_FILE)")

    def handle(self, *args, **options):
        if options["action"] == "new-key":
            self.stdout.write(secrets.token_urlsafe(48))
            return
        if options["action"] == "checkpoint":
            def one(_n: int) -> None:
                cp = checkpoint(options["file"])
                self.stdout.write(f"{timezone.localtime(cp.at):%Y-%m-%d %H:%M:%S} checkpoint #{cp.pk}: "
                                  f"{len(cp.heads)} chains, {sum(s for s, _h in cp.heads.values())} entries signed")

            repeat(one, options["every"])
            return
        checked, broken, reason = verify(options["file"])
        if reason:
            if broken:
                where = (f"entry #{broken.pk} (chain {broken.chain}, entry {broken.seq}, "
                         f"{broken.at:%Y-%m-%d %H:%M:%S} {broken.action})")
                raise CommandError(f"audit chain broken at {where}: {reason}; {checked} entries before it are intact")
            raise CommandError(f"audit log broken: {reason}; {checked} entries checked")
        self.stdout.write(f"audit chain intact: {checked} entries verified")
