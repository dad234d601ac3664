"""An SFTP drop (paramiko), checked against the host key fingerprint the officer entered.

The order is the point: the TCP connection, the SSH handshake, then the server's host key is
compared with the expected SHA-256 fingerprint (`SHA256:<base64>`, as `ssh-keygen -lf` and
OpenSSH print it) BEFORE any credential is sent; only then the password or private key.
Files are written under a temporary name and renamed into place, so a vendor polling the
folder never picks up half a message.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import posixpath
import socket
import stat
from dataclasses import dataclass

import paramiko
from django.utils.translation import gettext as _

from integrations.archivefeed.errors import (
    AccessDenied,
    AuthenticationFailed,
    FeedError,
    HostKeyMismatch,
    InvalidSettings,
    NotFound,
    TransientFailure,
    Unreachable,
)

KIND = "sftp"
TIMEOUT = 15.0  # seconds, for the connection, the handshake and each SFTP call
PROBE_NAME = ".advocacy-write-test"
KEY_TYPES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


@dataclass(frozen=True)
class SftpSettings:
    host: str
    port: int
    username: str
    host_key_fingerprint: str
    remote_directory: str
    password: str = ""
    private_key: str = ""  # OpenSSH or PEM text


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:<base64 without padding>` of the key's wire form (OpenSSH's format)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def normalise_fingerprint(value: str) -> str:
    """The form `fingerprint()` returns, from what an officer pastes (with or without the
    `SHA256:` prefix, the padding, a key type or surrounding spaces). Raises InvalidSettings."""
    text = value.strip().split()[-1] if value.strip() else ""
    if text.upper().startswith("SHA256:"):
        text = text[7:]
    text = text.rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidSettings(
            KIND,
            _(
                "The host key fingerprint must be the server's SHA-256 fingerprint, like "
                "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s (ssh-keyscan HOST | ssh-keygen -lf -)."
            ),
        )
    return "SHA256:" + base64.b64encode(raw).decode().rstrip("=")


def load_private_key(text: str) -> paramiko.PKey:
    """The private key from its text (Ed25519, ECDSA or RSA; not protected by a passphrase).
    Raises InvalidSettings."""
    for key_type in KEY_TYPES:
        try:
            return key_type.from_private_key(io.StringIO(text))
        except paramiko.PasswordRequiredException:
            raise InvalidSettings(
                KIND, _("The private key is protected by a passphrase; paste it without one.")
            ) from None
        except (paramiko.SSHException, ValueError):
            continue
    raise InvalidSettings(KIND, _("The private key could not be read (paste an OpenSSH or PEM private key)."))


class SftpTarget:
    """One connection to the drop. Use as a context manager; every method raises a FeedError."""

    def __init__(self, settings: SftpSettings, *, timeout: float = TIMEOUT):
        self.settings = settings
        self.timeout = timeout
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._made: set[str] = set()

    # --- connection ------------------------------------------------------------------------

    def __enter__(self) -> SftpTarget:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        """Connect, check the host key, log in, open SFTP. Raises Unreachable,
        HostKeyMismatch, AuthenticationFailed, InvalidSettings, TransientFailure."""
        s = self.settings
        expected = normalise_fingerprint(s.host_key_fingerprint)
        pkey = load_private_key(s.private_key) if s.private_key else None
        if pkey is None and not s.password:
            raise InvalidSettings(KIND, _("Enter a password or a private key."))
        try:
            sock = socket.create_connection((s.host, s.port), timeout=self.timeout)
        except socket.gaierror:
            raise Unreachable(KIND, _("The server name %(host)s could not be found.") % {"host": s.host}) from None
        except TimeoutError:
            raise Unreachable(
                KIND,
                _("%(host)s port %(port)s did not answer in %(timeout)s seconds.")
                % {"host": s.host, "port": s.port, "timeout": f"{self.timeout:.0f}"},
            ) from None
        except OSError as exc:
            raise Unreachable(
                KIND,
                _("Could not connect to %(host)s port %(port)s (%(reason)s).")
                % {"host": s.host, "port": s.port, "reason": _reason(exc)},
            ) from None
        transport = paramiko.Transport(sock)
        self._transport = transport
        try:
            transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = self.timeout
            transport.start_client(timeout=self.timeout)
            actual = fingerprint(transport.get_remote_server_key())
            if actual != expected:
                raise HostKeyMismatch(
                    KIND,
                    _(
                        "The server's host key does not match: it presented %(actual)s, the settings say "
                        "%(expected)s. Nothing was sent. Check the fingerprint with the archive's provider."
                    )
                    % {"actual": actual, "expected": expected},
                    expected=expected,
                    actual=actual,
                )
            if pkey is not None:
                transport.auth_publickey(s.username, pkey)
            else:
                transport.auth_password(s.username, s.password)
            self._sftp = paramiko.SFTPClient.from_transport(transport)
            self._sftp.get_channel().settimeout(self.timeout)
        except paramiko.AuthenticationException:
            self.close()
            raise AuthenticationFailed(
                KIND,
                _("The server refused the login of user %(username)s (wrong password or key).")
                % {"username": f"{s.username!r}"},
            ) from None
        except FeedError:
            self.close()
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise TransientFailure(
                KIND,
                _("The SSH connection to %(host)s failed (%(reason)s).") % {"host": s.host, "reason": _reason(exc)},
            ) from None

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # --- calls ------------------------------------------------------------------------------

    def check(self) -> None:
        """The remote folder exists and we may write there (a small file written and removed).
        Raises NotFound, AccessDenied, TransientFailure."""
        directory = self.settings.remote_directory or "."
        with self._errors(directory):
            attributes = self._client().stat(directory)
        if not stat.S_ISDIR(attributes.st_mode or 0):
            raise NotFound(KIND, _("%(directory)s on the server is a file, not a folder.") % {"directory": directory})
        probe = posixpath.join(directory, PROBE_NAME)
        with self._errors(directory):
            with self._client().open(probe, "wb") as fh:
                fh.write(b"advocacy archive feed: write test\n")
            self._client().remove(probe)

    def put(self, path: str, data: bytes) -> None:
        """Write `data` to `path` (relative to the remote folder; its folders are created),
        replacing a file of that name. Raises NotFound, AccessDenied, TransientFailure."""
        full = posixpath.join(self.settings.remote_directory or ".", path)
        self._makedirs(posixpath.dirname(full))
        partial = full + ".part"
        with self._errors(full):
            with self._client().open(partial, "wb") as fh:
                fh.write(data)
            try:
                self._client().posix_rename(partial, full)
            except OSError:
                # A server without the posix-rename extension: plain rename refuses to replace.
                self._remove_if_present(full)
                self._client().rename(partial, full)

    # --- helpers ------------------------------------------------------------------------------

    def _client(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self.connect()
        return self._sftp

    def _makedirs(self, directory: str) -> None:
        if not directory or directory in (".", "/") or directory in self._made:
            return
        self._makedirs(posixpath.dirname(directory))
        with self._errors(directory):
            try:
                self._client().mkdir(directory)
            except OSError:
                # Already there (SFTP servers answer a plain failure): check it is a folder.
                if not stat.S_ISDIR(self._client().stat(directory).st_mode or 0):
                    raise
        self._made.add(directory)

    def _remove_if_present(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._client().remove(path)

    def _errors(self, path: str):
        return _SftpErrors(self.settings.host, path)


class _SftpErrors:
    """Turns what paramiko raises during an SFTP call into a FeedError naming the path."""

    def __init__(self, host: str, path: str):
        self.host, self.path = host, path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, FeedError):
            return False
        if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT:
            raise NotFound(
                KIND, _("The folder %(path)s does not exist on %(host)s.") % {"path": self.path, "host": self.host}
            ) from None
        if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EACCES:
            raise AccessDenied(
                KIND, _("The server does not allow writing to %(path)s.") % {"path": self.path}
            ) from None
        if isinstance(exc, (paramiko.SSHException, EOFError, OSError)):
            raise TransientFailure(
                KIND,
                _("Writing %(path)s on %(host)s failed (%(reason)s).")
                % {"path": self.path, "host": self.host, "reason": _reason(exc)},
            ) from None
        return False


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
