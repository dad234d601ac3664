"""A text field stored encrypted (accounts.crypto): the database row never holds the secret."""

from django.db import models

from accounts import crypto


class EncryptedTextField(models.TextField):
    """Encrypted with the newest key on save; decrypted on load. Empty stays empty.

    Not searchable or orderable by its value, by design. `rotate_encryption_keys`
    re-encrypts existing rows with the newest key.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)
