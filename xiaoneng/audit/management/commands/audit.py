from django.core.management.base import BaseCommand, CommandError

from xiaoneng.audit.log import verify


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` checks the hash chain and names the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        checked, broken, reason = verify()
        if reason:
            where = f"entry #{broken.pk} ({broken.at:%Y-%m-%d %H:%M:%S} {broken.action})" if broken else "the chain head"
            raise CommandError(f"audit chain broken at {where}: {reason}; {checked} entries before it are intact")
        self.stdout.write(f"audit chain intact: {checked} entries verified")
