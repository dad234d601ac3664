"""Settings come from the environment, with safe defaults and loud failures."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-key-with-entropy-1234567890",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "advocacy.example.com",
    "HTTPS": "1",
    "DATABASE_URL": os.environ["DATABASE_URL"],
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # Only what a production host would have: nothing from the test run (the browser tests
    # set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which check --deploy rightly refuses).
    leaked = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL", "CELERY_BROKER_URL", "SITE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV and k not in leaked}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_check_deploy_reports_nothing_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_encryption_keys_are_required_when_debug_is_off():
    env = {k: v for k, v in PROD_ENV.items() if k != "TOKEN_ENCRYPTION_KEYS"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS must be set" in result.stderr


def test_local_defaults_need_no_configuration(tmp_path):
    """`make run`'s world: DEBUG on, nothing else set -> the local PostgreSQL and the filesystem broker."""
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='advocacy.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "EMAIL_URL")
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**env, "DEBUG": "1"}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "filesystem://",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_a_malformed_encryption_key_is_a_system_check_error(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key"]
    errors = [e for e in run_checks() if e.id == "accounts.E001"]
    assert len(errors) == 1 and "item 2" in errors[0].msg


def test_encrypted_secrets_survive_key_rotation(settings):
    from accounts import crypto

    old = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    cipher = crypto.encrypt("oauth-token")
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert crypto.decrypt(cipher) == "oauth-token"
    rotated = crypto.rotate(cipher)
    settings.TOKEN_ENCRYPTION_KEYS = settings.TOKEN_ENCRYPTION_KEYS[:1]
    assert crypto.decrypt(rotated) == "oauth-token"
    import pytest

    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(cipher)
