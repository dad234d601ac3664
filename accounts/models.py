"""Users, organizations (tenants), memberships with roles, teams, invitations, API tokens."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from advocacy.bearer_keys import BearerKey
from advocacy.tenancy import TenantModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("A user needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone (for example Europe/Paris).") % {"value": repr(value)}
        )


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Keyed by e-mail; belongs to organizations through memberships."""

    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    # Empty: follow the organization's zone (advocacy.timezones.zone_for).
    timezone = models.CharField(max_length=64, blank=True, default="", validators=[validate_timezone])
    # Empty: follow the organization's default language (advocacy.languages.language_for).
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)
    # Single-key shortcuts in the review queue (a, s, r, j, k...): a reviewer may turn them
    # off (WCAG 2.1.4 Character Key Shortcuts).
    review_shortcuts = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)
    last_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped to end every session of the user at once (a suspension): part of the session
    # hash Django checks on each request, so it works whatever the session store.
    session_generation = models.PositiveIntegerField(default=0, db_default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        # Addresses are found in any case (sign-in, a directory's push): an index for that.
        indexes = [models.Index(models.functions.Upper("email"), name="user_email_any_case")]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    def _get_session_auth_hash(self, secret=None):
        """Django's hash of the password, with the session generation mixed in once it was
        bumped (generation 0 keeps the hash every existing session holds)."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_generation}", secret=secret, algorithm="sha256"
        ).hexdigest()


class Organization(models.Model):
    """A tenant: one company using the product."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # The language of members who chose none, and of e-mails to people without an account yet.
    default_language = models.CharField(max_length=8, default="en", choices=settings.LANGUAGES)
    # Sharing rules: at most this many shares per employee per day (empty = no cap), and
    # posts only between these local times (empty = any time).
    daily_share_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    posting_hours_start = models.TimeField(null=True, blank=True)
    posting_hours_end = models.TimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    MARKETER = "marketer", _("Marketer")
    COMPLIANCE = "compliance", _("Compliance officer")
    EXECUTIVE = "executive", _("Executive")
    ADMIN = "admin", _("Org admin")


class Team(TenantModel):
    """A group for targeting and reporting: a department or a location."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        LOCATION = "location", _("Location")

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "name"], name="team_unique_name_per_kind")
        ]

    def __str__(self) -> str:
        return self.name


def new_domain_token() -> str:
    return secrets.token_urlsafe(24)


class SignupDomain(TenantModel):
    """An e-mail domain whose owners, once their address is verified, join as employees: only
    once the organization proved it owns the domain (a DNS TXT record), and only one
    organization at a time (accounts.services.domains)."""

    domain = models.CharField(max_length=253, db_index=True)
    verification_token = models.CharField(max_length=64, default=new_domain_token)
    verified_at = models.DateTimeField(null=True, blank=True, help_text=_("Ownership proven; empty = not used."))

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "domain"], name="signup_domain_unique_per_org"),
            models.UniqueConstraint(
                fields=["domain"], condition=models.Q(verified_at__isnull=False), name="signup_domain_verified_once"
            ),
        ]

    def __str__(self) -> str:
        return self.domain


class Provisioning(models.TextChoices):
    """How a membership was created."""

    ADMIN = "admin", _("Created by an admin")
    INVITATION = "invitation", _("Invitation")
    DOMAIN = "domain", _("Verified e-mail domain")
    SSO = "sso", _("Single sign-on")
    SCIM = "scim", _("Directory (SCIM)")


class Membership(TenantModel):
    """A user's place in one organization: roles (one or more) and teams.

    Roles are one boolean column each so that "every compliance officer of this
    organization" is a plain indexed filter on any database.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_employee = models.BooleanField(default=True)
    is_marketer = models.BooleanField(default=False)
    is_compliance = models.BooleanField(default=False)
    is_executive = models.BooleanField(default=False)
    is_admin = models.BooleanField(default=False)
    teams = models.ManyToManyField(Team, blank=True, related_name="memberships")
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    # How the membership came to be, and when (the members page shows both): an invitation, a
    # verified e-mail domain, a first single sign-on (just in time) or the directory over SCIM.
    provisioned_via = models.CharField(max_length=20, choices=Provisioning.choices, default=Provisioning.ADMIN)
    provisioned_at = models.DateTimeField(default=timezone.now)
    # A suspension (the directory deprovisioned the person, or an admin did): when, by whom
    # ("scim:<token name>", "admin:<email>") and why. Cleared on reactivation; the audit
    # trail keeps every one.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_by = models.CharField(max_length=200, blank=True, db_default="")
    suspension_reason = models.CharField(max_length=500, blank=True, db_default="")
    # The composer's targets of the member's last share ("connection:<id>", "assisted:<network>"):
    # pre-selected next time (content.services.sharing.preselected_targets).
    last_share_targets = models.JSONField(default=list, blank=True, db_default=[])

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for role in Role if getattr(self, f"is_{role.value}"))

    def set_roles(self, roles) -> None:
        wanted = {Role(r) for r in roles}
        for role in Role:
            setattr(self, f"is_{role.value}", role in wanted)

    @property
    def role_labels(self) -> list[str]:
        return [str(role.label) for role in Role if role in self.roles]

    @property
    def is_suspended(self) -> bool:
        return not self.is_active and self.suspended_at is not None


def role_fields() -> list[str]:
    return [f"is_{role.value}" for role in Role]


class Invitation(TenantModel):
    """An e-mailed offer to join an organization with given roles and teams.

    Only the SHA-256 of the link's secret is stored; the link itself is in the e-mail.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    email = models.EmailField()
    roles = models.JSONField(default=list)
    teams = models.ManyToManyField(Team, blank=True, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="invitations_sent")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"invitation for {self.email}"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles]


class InvitationImport(TenantModel):
    """A CSV of invitations processed by a worker, with its progress and per-row report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=255, blank=True)
    csv_text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    invited_count = models.PositiveIntegerField(default=0)
    # [{"line": 3, "email": "x", "reason": "..."}]
    rejected_rows = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return int(100 * self.processed_rows / self.total_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ApiToken(TenantModel, BearerKey):
    """A personal API token: one user, one organization, revocable, stored hashed
    (`adv_<prefix>_<secret>`, see `advocacy.bearer_keys`). Shown once, when created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (adv_{self.prefix}_…)"


class Network(models.TextChoices):
    LINKEDIN = "linkedin", "LinkedIn"  # untranslated: a brand name
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"  # untranslated: a brand name


def network_label(value: str) -> str:
    """The network's name as people write it ("linkedin" -> "LinkedIn"); an unknown value as it is."""
    return Network(value).label if value in Network.values else value


class NetworkApp(TenantModel):
    """An organization's switch and app credentials for one network.

    Without its own client id the deployment's credentials are used; with neither, or
    when disabled, employees share through the network's own share window (assisted).
    """

    network = models.CharField(max_length=20, choices=Network.choices)
    is_enabled = models.BooleanField(default=True)
    client_id = models.CharField(max_length=255, blank=True)
    client_secret = EncryptedTextField(blank=True)
    # X only: the app's API Key and Secret (consumer credentials), for the app-only bearer
    # token that reads every account's public metrics 100 posts a call.
    api_key = models.CharField(max_length=255, blank=True)
    api_secret = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["network"]
        constraints = [models.UniqueConstraint(fields=["organization", "network"], name="network_app_unique")]

    def __str__(self) -> str:
        return f"{self.get_network_display()} app"


class SocialConnection(TenantModel):
    """An employee's account on a network (or a Facebook Page they manage), with its tokens.

    Tokens are encrypted at rest. Reconnecting the same remote account updates this row,
    so its history and scheduled deliveries stay attached to it.
    """

    class Kind(models.TextChoices):
        MEMBER = "member", _("Personal account")
        PAGE = "page", _("Facebook Page")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
        DISCONNECTED = "disconnected", _("Disconnected")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="social_connections")
    network = models.CharField(max_length=20, choices=Network.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pages",
        help_text=_("For a Facebook Page: the personal connection it was found through."),
    )
    remote_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Facebook Pages are offered after connecting; the employee picks which to post to.
    is_selected = models.BooleanField(default=True)
    can_post = models.BooleanField(default=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    status_reason = models.CharField(max_length=500, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["network", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "network", "remote_id"], name="social_connection_unique_remote"
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="connection_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.get_network_display()}: {self.name or self.remote_id}"


# --- guidelines, training and notifications -----------------------------------------------


class Guideline(TenantModel):
    """One published version of the organization's social media guidelines.

    Versions only grow; the highest one is the current version, the one members accept.
    """

    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["organization", "version"], name="guideline_unique_version")]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class GuidelineAcceptance(TenantModel):
    """A member's acceptance of one guideline version (kept when newer versions appear)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="guideline_acceptances")
    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["guideline", "user"], name="guideline_acceptance_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.guideline_id}"


class TrainingItem(TenantModel):
    """A short lesson shown with the guidelines (how to write a good post, what not to say)."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class Notification(TenantModel):
    """Something a member should know, shown in the app and (by preference) e-mailed."""

    class Kind(models.TextChoices):
        CONTENT_DIGEST = "content_digest", _("New content to share (digest)")
        SHARE_APPROVED = "share_approved", _("A share was approved")
        SHARE_CHANGES_REQUESTED = "share_changes_requested", _("A share was sent back for changes")
        SHARE_REJECTED = "share_rejected", _("A share was rejected")
        SHARE_PUBLISHED = "share_published", _("A share was published")
        SHARE_FAILED = "share_failed", _("A share could not be published")
        CONNECTION_NEEDS_RECONNECT = "connection_needs_reconnect", _("An account needs reconnecting")
        ORGANIZATION_NOTICE = "organization_notice", _("Something about the organization's settings")
        REVIEW_ROUTED = "review_routed", _("A share you supervise waits for review")
        REVIEW_ESCALATED = "review_escalated", _("A review passed its deadline")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    message = models.CharField(max_length=1000)
    url = models.CharField(max_length=2000, blank=True, help_text=_("A path on this site, or an absolute URL."))
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "user", "-created_at"], name="notification_user_idx"),
            models.Index(
                fields=["organization", "user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(TenantModel):
    """How a member wants one kind of notification. No row means the defaults (both on, weekly digest)."""

    class Digest(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        OFF = "off", _("Off")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=40, choices=Notification.Kind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    # A push to the member's devices (accounts.services.push.PUSH_KINDS only): opt-in, off by default.
    push = models.BooleanField(default=False)
    # Only for kind=content_digest: how often the digest of new content is e-mailed.
    digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.WEEKLY)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "kind"], name="notification_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class PushSubscription(TenantModel):
    """One device (browser) of a member that accepted push notifications: its
    PushSubscription (endpoint and keys) as the browser gave it. A member may have several;
    an endpoint belongs to one member per organization (another member signing in on that
    browser and subscribing it takes it over)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000)
    p256dh = models.CharField(max_length=200)  # the browser's P-256 public key, base64url
    auth = models.CharField(max_length=100)  # its 16-byte authentication secret, base64url
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "endpoint"], name="push_subscription_endpoint_unique")
        ]
        indexes = [models.Index(fields=["organization", "user"], name="push_subscription_user_idx")]

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.user_id}"


class SsoConfiguration(TenantModel):
    """An organization's single sign-on: one identity provider, over OpenID Connect or SAML 2.0,
    served by django-allauth's own providers (`openid_connect`, `saml`) from an app built from
    this row at request time (secrets are decrypted only then and never shown back).

    While `is_enabled` is off the configuration can be tried ("test sign-in") without anybody
    being sent to it. `sso_required` takes passwords away from the members, except the
    break-glass admins named here."""

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    protocol = models.CharField(max_length=10, choices=Protocol.choices)
    is_enabled = models.BooleanField(default=False)
    sso_required = models.BooleanField(default=False)
    break_glass = models.ManyToManyField(Membership, blank=True, related_name="+")
    # Minutes a session started through single sign-on lasts; empty = the deployment's default.
    session_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Claim or attribute names for email, name, team, location and roles; a map from the
    # provider's role or group values to our roles; the roles a first sign-in gets.
    attribute_mapping = models.JSONField(default=dict, blank=True)
    role_mapping = models.JSONField(default=dict, blank=True)
    default_roles = models.JSONField(default=list, blank=True)
    # OpenID Connect: the issuer (discovery at <issuer>/.well-known/openid-configuration).
    oidc_issuer = models.URLField(max_length=500, blank=True)
    oidc_client_id = models.CharField(max_length=255, blank=True)
    oidc_client_secret = EncryptedTextField(blank=True)
    # SAML 2.0: the IdP's metadata (by URL or pasted XML) or its entity id, SSO URL and certificate.
    saml_metadata_url = models.URLField(max_length=500, blank=True)
    saml_metadata_xml = models.TextField(blank=True)
    saml_idp_entity_id = models.CharField(max_length=500, blank=True)
    saml_idp_sso_url = models.URLField(max_length=500, blank=True)
    saml_idp_x509_cert = models.TextField(blank=True)
    saml_allow_idp_initiated = models.BooleanField(default=False)
    # The last "test sign-in": when, and the attributes it mapped (shown to the admin).
    tested_at = models.DateTimeField(null=True, blank=True)
    test_result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="sso_configuration_one_per_org")]

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} sign-in"


class ScimToken(TenantModel, BearerKey):
    """A directory's key to one organization's SCIM endpoint (`scim_<prefix>_<secret>`, see
    `advocacy.bearer_keys`): stored hashed, shown once, revocable; it reaches nothing else."""

    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (scim_{self.prefix}_…)"


class ScimUser(TenantModel):
    """A membership as the organization's directory sees it over SCIM (RFC 7643 User): its
    `userName` and `externalId` in this organization (the User itself is global, by e-mail),
    the last document the directory sent (`document`, without `password`), and a version for
    ETags. Deleting over SCIM suspends the membership and sets `deleted_at`: every record is
    kept, and SCIM answers 404 for it from then on."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="scim")
    user_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    # The department and location teams the directory put the member in (a mover leaves them).
    department = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=120, blank=True)
    document = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["membership_id"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Upper("user_name"),
                "organization",
                condition=models.Q(deleted_at__isnull=True),
                name="scim_user_unique_user_name",
            )
        ]
        indexes = [
            # The live users of an organization in id order: the list's pages and its count.
            models.Index(
                fields=["organization", "membership"],
                condition=models.Q(deleted_at__isnull=True),
                name="scim_user_live",
            ),
            models.Index(models.functions.Upper("external_id"), "organization", name="scim_user_external_id"),
            models.Index(models.functions.Upper("email"), "organization", name="scim_user_email"),
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(TenantModel):
    """A directory group over SCIM (RFC 7643 Group): it is a team (its `displayName` is the
    team's name, its members the team's members); the admin may map it to roles, which its
    members then hold."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="scim_group")
    external_id = models.CharField(max_length=255, blank=True)
    roles = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team_id"]

    def __str__(self) -> str:
        return f"group {self.team_id}"
