"""Re-encrypt every stored secret with the newest key of TOKEN_ENCRYPTION_KEYS.

Rotate a key: prepend a new key to TOKEN_ENCRYPTION_KEYS (keep the old one after it),
deploy, run this command, then drop the old key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            manager = model._base_manager  # every tenant's rows: this is key housekeeping
            count = 0
            for pk in manager.values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    row = manager.select_for_update().filter(pk=pk).values(*fields).first()
                    if row is None:
                        continue
                    # Loading decrypted with any configured key; saving encrypts with the newest.
                    manager.filter(pk=pk).update(**row)
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            total += count
        self.stdout.write(f"Done: {total} rows.")
