"""System checks for settings a mistake in would only show at the first encrypted write."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register


@register(deploy=False)
def check_token_encryption_keys(app_configs, **kwargs):
    errors = []
    for index, key in enumerate(settings.TOKEN_ENCRYPTION_KEYS):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"TOKEN_ENCRYPTION_KEYS item {index + 1} is not a valid Fernet key.",
                    hint="Generate one with `python -m accounts.crypto`.",
                    id="accounts.E001",
                )
            )
    return errors
