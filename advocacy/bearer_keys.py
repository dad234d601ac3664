"""Secret keys sent as `Authorization: Bearer <kind>_<prefix>_<secret>`: personal API tokens
(`adv_`, accounts) and organizations' conversion keys (`cvk_`, analytics) share this.

Guarantees: the plain key exists only in `new_key`'s return value (the row keeps the prefix,
which finds it, and the SHA-256 of the whole key, which proves it, compared in constant
time); a revoked key is never found; `last_used_at` is written at most every 5 minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions

from advocacy.errors import ValidationFailed

TOUCH_EVERY = timedelta(minutes=5)


class BearerKey(models.Model):
    """The columns every bearer key row has (the concrete model adds its owner)."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def new_key(kind: str) -> tuple[str, str]:
    """(prefix, plain key) for a new key of this kind; store the prefix and `digest(plain)`."""
    prefix = secrets.token_hex(6)
    return prefix, f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"


def issue_key(model: type[BearerKey], kind: str, *, name: str, unnamed: str, **owner) -> tuple[BearerKey, str]:
    """A new row of `model` named `name` (ValidationFailed with `unnamed` when blank) and its
    plain key, which exists only in this return value."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(unnamed, fields={"name": [_("Required.")]})
    prefix, plain = new_key(kind)
    row = model.objects.create(name=name[:100], prefix=prefix, token_hash=digest(plain), **owner)
    return row, plain


def revoke_key(row: BearerKey) -> bool:
    """Stop the key at once; False (and nothing written) when it was revoked already."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    return True


def find_key(rows: models.QuerySet, kind: str, plain: str):
    """The active row of `rows` whose key is `plain`, else None; notes when it was used."""
    parts = (plain or "").split("_", 2)
    if len(parts) != 3 or parts[0] != kind:
        return None
    row = rows.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if row is None or not secrets.compare_digest(row.token_hash, digest(plain)):
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        type(row).base_objects.filter(pk=row.pk).update(last_used_at=now)
    return row


class BearerKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication for one kind of key: another kind is left to other authenticators
    (None); a malformed header or an unknown key of this kind is a 401 in words."""

    keyword = "Bearer"
    kind = ""
    what = gettext_lazy("key")

    def resolve(self, plain: str) -> tuple | None:
        """(user, auth) for a valid key, else None."""
        raise NotImplementedError

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as 'Authorization: Bearer <%(what)s>'.") % {"what": self.what}
            )
        if not header[1].startswith(f"{self.kind}_"):
            return None
        found = self.resolve(header[1])
        if found is None:
            raise exceptions.AuthenticationFailed(_("This %(what)s is not valid or was revoked.") % {"what": self.what})
        return found

    def authenticate_header(self, request) -> str:
        return self.keyword
