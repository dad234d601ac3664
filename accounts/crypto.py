"""Encryption at rest for secrets we must keep (the networks' OAuth tokens).

`TOKEN_ENCRYPTION_KEYS` lists Fernet keys newest first: the first encrypts, every key
decrypts, so a key is rotated by prepending a new one and re-encrypting (`rotate`).
Run `python -m accounts.crypto` to print a new key.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionFailed(Exception):
    """The ciphertext was made with a key that is no longer configured, or was altered."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        # DEBUG only (settings refuse to start otherwise): a stable key for local data.
        derived = base64.urlsafe_b64encode(hashlib.sha256(("tokens:" + secret_key).encode()).digest())
        keys = (derived.decode(),)
    return MultiFernet([Fernet(k) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode()


def decrypt(cipher: str) -> str:
    try:
        return _current().decrypt(cipher.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed("Stored secret cannot be decrypted with the configured keys.") from None


def rotate(cipher: str) -> str:
    """Re-encrypt with the newest key."""
    try:
        return _current().rotate(cipher.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed("Stored secret cannot be decrypted with the configured keys.") from None


if __name__ == "__main__":
    print(Fernet.generate_key().decode())


def secret_hash(secret: str) -> str:
    """The SHA-256 hex digest kept instead of a one-time secret (invitation links)."""
    return hashlib.sha256(secret.encode()).hexdigest()
