"""Every way a delivery to an archive drop can fail, as a few typed exceptions (like
`networks.errors`). `message` is plain words for a compliance officer; it never carries a
password, a key or a secret.

Callers decide by type: ask the officer to fix the settings on `AuthenticationFailed`,
`HostKeyMismatch`, `NotFound`, `AccessDenied` and `InvalidSettings`; try again later on
`Unreachable` and `TransientFailure`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class FeedError(Exception):
    """Base class. `kind` is "sftp" or "s3"; `summary` names the failure in two words."""

    summary = _("Failed.")

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class InvalidSettings(FeedError):
    """The settings themselves cannot work (a private key that does not parse, a bad URL)."""

    summary = _("Settings incomplete.")


class Unreachable(FeedError):
    """No connection: the name does not resolve, nothing listens, or it timed out."""

    summary = _("Unreachable.")


class HostKeyMismatch(FeedError):
    """The SFTP server's host key is not the one the officer entered: maybe another server
    answers at that address. Nothing was sent (not even the password)."""

    summary = _("Host key mismatch.")

    def __init__(self, kind: str, message: str, *, expected: str, actual: str):
        super().__init__(kind, message)
        self.expected = expected
        self.actual = actual


class AuthenticationFailed(FeedError):
    """The server refused the user name and password or key (S3: the access key or secret)."""

    summary = _("Login refused.")


class NotFound(FeedError):
    """The remote folder or the bucket does not exist."""

    summary = _("Not found.")


class AccessDenied(FeedError):
    """Logged in, but not allowed to write there."""

    summary = _("Not allowed.")


class TransientFailure(FeedError):
    """The connection dropped or the server failed mid-way: the same delivery may work later."""
