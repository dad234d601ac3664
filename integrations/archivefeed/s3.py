"""An S3-compatible drop (boto3): AWS S3 or any store speaking its API (MinIO, Ceph, Wasabi,
a local moto server), reached at `endpoint_url` when one is given.

Each object is written with one PutObject carrying the SHA-256 of its bytes
(`ChecksumSHA256`), so the store refuses a body damaged on the way.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from django.utils.translation import gettext as _

from integrations.archivefeed.errors import (
    AccessDenied,
    AuthenticationFailed,
    InvalidSettings,
    NotFound,
    TransientFailure,
    Unreachable,
)

KIND = "s3"
TIMEOUT = 15.0
PROBE_NAME = ".advocacy-write-test"
CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
}
MISSING_BUCKET_CODES = {"NoSuchBucket", "404", "NotFound"}
DENIED_CODES = {"AccessDenied", "403", "AllAccessDisabled"}


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    access_key_id: str
    secret_access_key: str
    endpoint_url: str = ""  # empty: AWS itself
    region: str = ""
    prefix: str = ""


def validate_endpoint(url: str) -> str:
    """An http(s) URL with a host, or empty. Raises InvalidSettings."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSettings(
            KIND, _("The endpoint must be an http:// or https:// address, like https://s3.example.com.")
        )
    return url.rstrip("/")


class S3Target:
    """One client for the bucket. Use as a context manager; every method raises a FeedError."""

    def __init__(self, settings: S3Settings, *, timeout: float = TIMEOUT):
        self.settings = settings
        endpoint = validate_endpoint(settings.endpoint_url)
        if not settings.bucket:
            raise InvalidSettings(KIND, _("Enter the bucket's name."))
        if not settings.access_key_id or not settings.secret_access_key:
            raise InvalidSettings(KIND, _("Enter the access key and its secret."))
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=settings.region or "us-east-1",
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 3, "mode": "standard"},
                # Other S3-compatible stores rarely serve bucket names as host names.
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        )

    def __enter__(self) -> S3Target:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def check(self) -> None:
        """The bucket exists and we may write there (a small object written and removed).
        Raises Unreachable, AuthenticationFailed, NotFound, AccessDenied, TransientFailure."""
        # A PUT, not HeadBucket: a HEAD answer has no body, so a wrong secret and a missing
        # permission would both be a bare 403; and a drop's key often may write, not list.
        probe = self._key(PROBE_NAME)
        with self._errors():
            self._client.put_object(Bucket=self.settings.bucket, Key=probe, Body=b"advocacy archive feed: write test\n")
        # A write-only key may not delete: the small probe object then stays, harmless.
        with contextlib.suppress(ClientError):
            self._client.delete_object(Bucket=self.settings.bucket, Key=probe)

    def put(self, path: str, data: bytes) -> None:
        """Write `data` under the prefix at `path`, replacing an object of that name."""
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        content_type = "message/rfc822" if path.endswith(".eml") else "application/json"
        with self._errors():
            self._client.put_object(
                Bucket=self.settings.bucket,
                Key=self._key(path),
                Body=data,
                ContentType=content_type,
                ChecksumSHA256=checksum,
            )

    def _key(self, path: str) -> str:
        prefix = self.settings.prefix.strip("/")
        return posixpath.join(prefix, path) if prefix else path

    def _errors(self):
        return _S3Errors(self.settings)


class _S3Errors:
    def __init__(self, settings: S3Settings):
        self.settings = settings

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            return False
        bucket = self.settings.bucket
        where = self.settings.endpoint_url or "AWS S3"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in CREDENTIAL_CODES:
                raise AuthenticationFailed(
                    KIND,
                    _("%(where)s refused the access key %(access_key_id)s or its secret (%(code)s).")
                    % {"where": where, "access_key_id": f"{self.settings.access_key_id!r}", "code": code},
                ) from None
            if code in MISSING_BUCKET_CODES:
                raise NotFound(
                    KIND,
                    _("The bucket %(bucket)s does not exist at %(where)s.") % {"bucket": f"{bucket!r}", "where": where},
                ) from None
            if code in DENIED_CODES:
                raise AccessDenied(
                    KIND,
                    _("The access key may not write to the bucket %(bucket)s (%(code)s).")
                    % {"bucket": f"{bucket!r}", "code": code},
                ) from None
            if status and status >= 500:
                raise TransientFailure(
                    KIND,
                    _("%(where)s failed (%(status)s %(code)s); try again later.")
                    % {"where": where, "status": status, "code": code},
                ) from None
            raise TransientFailure(
                KIND,
                _("%(where)s answered %(status)s %(code)s: %(detail)s")
                % {"where": where, "status": status, "code": code, "detail": error.get("Message", "")},
            ) from None
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
            raise Unreachable(KIND, _("Could not connect to %(where)s.") % {"where": where}) from None
        if isinstance(exc, ReadTimeoutError):
            raise TransientFailure(KIND, _("%(where)s did not answer in time.") % {"where": where}) from None
        if isinstance(exc, NoCredentialsError):
            raise InvalidSettings(KIND, _("Enter the access key and its secret.")) from None
        if isinstance(exc, BotoCoreError):
            raise TransientFailure(
                KIND, _("The request to %(where)s failed (%(error)s).") % {"where": where, "error": type(exc).__name__}
            ) from None
        return False
