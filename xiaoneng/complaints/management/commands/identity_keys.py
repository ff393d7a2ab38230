"""Keys that encrypt complainants' and raters' identities.

    xiaoneng identity_keys new      print a fresh key (put it first in XIAONENG_IDENTITY_KEYS)
    xiaoneng identity_keys rotate   re-encrypt every stored identity with the first key
    xiaoneng identity_keys check    decrypt every stored identity once (no output of them)

Rotation: 1. prepend the new key to XIAONENG_IDENTITY_KEYS (keep the old one after it);
2. restart the application; 3. run `rotate`; 4. remove the old key and restart again.
"""
from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xiaoneng.audit.log import record
from xiaoneng.complaints import identity
from xiaoneng.complaints.models import Complaint, Rating

BATCH = 1000


class Command(BaseCommand):
    help = "Create, rotate or check the keys that encrypt complainants' identities"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["new", "rotate", "check"])

    def handle(self, *args, action, **options):
        if action == "new":
            self.stdout.write(Fernet.generate_key().decode())
            return
        total = bad = 0
        for model in (Complaint, Rating):
            ids = list(model.objects.exclude(identity_enc="").values_list("pk", flat=True))
            for start in range(0, len(ids), BATCH):
                with transaction.atomic():
                    rows = list(model.objects.select_for_update().filter(pk__in=ids[start:start + BATCH])
                                .only("pk", "identity_enc"))
                    for row in rows:
                        try:
                            if action == "rotate":
                                row.identity_enc = identity.rotate_token(row.identity_enc)
                            else:
                                identity.decrypt(row.identity_enc)
                        except ValueError:
                            bad += 1
                    if action == "rotate":
                        model.objects.bulk_update(rows, ["identity_enc"], batch_size=BATCH)
                total += len(rows)
                self.stderr.write(f"{model._meta.label}: {min(start + BATCH, len(ids))}/{len(ids)}")
        record(f"identity.keys_{action}", object_type="complaints.identity", object_id="-",
               changes={"rows": total, "unreadable": bad})
        self.stdout.write(f"{action}: {total} identities, {bad} unreadable with the configured keys")
        if bad:
            raise CommandError(f"{bad} identities cannot be decrypted with the configured keys")
