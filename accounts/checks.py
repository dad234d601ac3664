"""System checks for settings a mistake in would only show later: at the first encrypted
write, or when an attacker finds that the login throttle locks the owner out."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Warning, register

from accounts import login_throttle


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


@register(deploy=False)
def check_login_throttle(app_configs, **kwargs):
    """The login delays only keep the owner in if no single source can make the account wait."""
    problems = []
    login_failed = settings.ACCOUNT_RATE_LIMITS.get("login_failed") or ""
    if any(part.strip().endswith("/key") for part in login_failed.split(",")):
        problems.append(
            Warning(
                "LOGIN_FAILED_RATE has a per-account (/key) part: allauth then locks the account "
                "for everyone after that many wrong passwords from anywhere.",
                hint="Keep only per-address parts, e.g. 20/5m/ip; accounts.login_throttle slows each account.",
                id="accounts.W001",
            )
        )
    cap = settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR
    one_source = login_throttle.failures_within(login_throttle.HOUR)
    if cap and one_source >= cap:
        problems.append(
            Warning(
                f"One address can make {one_source} failed logins an hour, enough to reach "
                f"LOGIN_ACCOUNT_FAILURES_PER_HOUR ({cap}) and make the account wait everywhere.",
                hint="Raise LOGIN_ACCOUNT_FAILURES_PER_HOUR, or lower LOGIN_DELAY_FREE_ATTEMPTS "
                "or raise LOGIN_DELAY_FIRST_SECONDS / LOGIN_DELAY_MAX_SECONDS.",
                id="accounts.W002",
            )
        )
    return problems
