"""Content items, shares and deliveries (the share lifecycle lives in content/lifecycle.py).

A *content item* is what marketing curates; a *share* is what an employee submits (item +
commentary + schedule, versioned); a *delivery* is the share's copy on one account.
"""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from accounts.models import Membership, Network, SocialConnection, Team, User
from advocacy.search import search_vector_field
from advocacy.tenancy import TenantModel


class Topic(TenantModel):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    followers = models.ManyToManyField(Membership, blank=True, related_name="followed_topics")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="topic_unique_slug")]

    def __str__(self) -> str:
        return self.name


class ContentItem(TenantModel):
    """Approved content marketing offers employees to share."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        FEED = "feed", _("Imported from a feed")
        PROPOSAL = "proposal", _("Proposed by an employee")

    class Unfurl(models.TextChoices):
        NONE = "none", _("Not fetched")
        PENDING = "pending", _("Fetching")
        DONE = "done", _("Fetched")
        FAILED = "failed", _("Could not fetch")

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, help_text=_("Names the campaign in tracked links (utm_campaign)."))
    url = models.URLField(max_length=2000)
    canonical_url = models.URLField(max_length=2000, blank=True)
    description = models.TextField(blank=True)
    image = models.ImageField(upload_to="content/%Y/%m/", blank=True)
    # Read to people who cannot see the picture; the picture is posted natively only with it.
    image_alt_text = models.CharField(max_length=1000, blank=True, db_default="")
    image_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    featured = models.BooleanField(default=False)
    topics = models.ManyToManyField(Topic, blank=True, related_name="items")
    # Empty = everyone in the organization.
    target_teams = models.ManyToManyField(Team, blank=True, related_name="targeted_items")
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    feed = models.ForeignKey(
        "content.ContentFeed", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    source_guid = models.CharField(max_length=500, blank=True)
    unfurl_status = models.CharField(max_length=20, choices=Unfurl.choices, default=Unfurl.NONE)
    unfurl_error = models.CharField(max_length=500, blank=True)
    # The page's own title at the last successful fetch, even when the marketer's title was
    # kept: the editor proposes it ("Fetched title: ..., use it").
    fetched_title = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The language its own title, summary and suggestions are written in (set from the
    # organization's default when it is added; "" = that default). Other languages are
    # ContentVariant rows (issue 23).
    language = models.CharField(max_length=8, blank=True, default="", db_default="", choices=settings.LANGUAGES)

    class Meta:
        ordering = ["-featured", "-published_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="content_item_unique_slug"),
            models.UniqueConstraint(
                fields=["organization", "feed", "source_guid"],
                condition=~models.Q(source_guid=""),
                name="content_item_unique_feed_entry",
            ),
        ]
        # The feed's order (featured first, then newest): a page is read in index order and
        # stops after its rows, whatever the number of live items.
        indexes = [
            models.Index(
                fields=["organization", "status", "-featured", "-published_at", "-id"], name="content_feed_order_idx"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and (self.starts_at is None or self.starts_at <= now)
            and (self.expires_at is None or self.expires_at > now)
        )


class Suggestion(TenantModel):
    """Suggested commentary for an item, for every network or one."""

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="suggestions")
    text = models.TextField()
    network = models.CharField(max_length=20, choices=Network.choices, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ContentVariant(TenantModel):
    """The item in another language (issue 23): its own title, summary and suggested
    commentaries ([{"text": ..., "network": ...}], in the order of the item's), which the
    feed and the composer show to members who read that language
    (content.services.library.variants writes them; content.selectors.languages reads)."""

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    suggestions = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item", "language"]
        constraints = [models.UniqueConstraint(fields=["item", "language"], name="content_variant_one_per_language")]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.language}"


class ContentFeed(TenantModel):
    """An RSS/Atom feed whose entries are imported as draft items, re-checked on a schedule."""

    url = models.URLField(max_length=2000)
    title = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url"]
        constraints = [models.UniqueConstraint(fields=["organization", "url"], name="content_feed_unique_url")]

    def __str__(self) -> str:
        return self.title or self.url


class ContentProposal(TenantModel):
    """An employee's suggestion of something worth sharing, in the marketers' inbox."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    url = models.URLField(max_length=2000)
    reason = models.TextField(blank=True)
    proposed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    item = models.ForeignKey(ContentItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Share(TenantModel):
    """An employee's post of an item: commentary, schedule, versions, and one delivery per account."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        CHANGES_REQUESTED = "changes_requested", _("Sent back")
        REJECTED = "rejected", _("Rejected")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        HELD = "held", _("Held (author suspended)")

    item = models.ForeignKey(ContentItem, on_delete=models.PROTECT, related_name="shares")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="shares")
    commentary = models.TextField()
    # The employee's words adapted for one network ({"x": "..."}); a network without an
    # entry posts `commentary` (content.services.sharing.words_for).
    network_texts = models.JSONField(default=dict, blank=True, db_default={})
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The author's team when they shared (reports group by it)."),
    )
    suggestion = models.ForeignKey(Suggestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_personalised = models.BooleanField(default=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text=_("UTC; empty = as soon as approved."))
    # A picture the employee chose for this share (posted instead of the item's), with its alt text.
    image = models.ImageField(upload_to="shares/%Y/%m/", blank=True, db_default="")
    image_alt_text = models.CharField(max_length=1000, blank=True, db_default="")
    # The language its words were written in (the variant the composer offered, else the
    # item's): analytics cut by it, screening applies that language's terms.
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    version = models.PositiveIntegerField(default=1)
    review_comment = models.TextField(blank=True)
    review_required = models.BooleanField(
        default=False, db_default=False, help_text=_("It went to a reviewer once: every later version goes to one too.")
    )
    # Idempotent submits: the composer's one-time token or the API's Idempotency-Key, and a
    # fingerprint of what was submitted with it (the same key with other content is refused).
    submit_key = models.CharField(max_length=100, blank=True, db_default="")
    submit_fingerprint = models.CharField(max_length=64, blank=True, db_default="")
    # Held because its author was suspended (content.services.held): the state it was held
    # from (an admin's release returns it there) and when.
    held_from = models.CharField(max_length=20, blank=True, db_default="")
    held_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "author", "-created_at"], name="share_author_idx"),
            # The review queue's shares: a small index of just those waiting, per organization.
            models.Index(fields=["organization"], condition=models.Q(status="in_review"), name="share_in_review_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "author", "submit_key"],
                condition=~models.Q(submit_key=""),
                name="share_unique_submit_key",
            )
        ]

    def __str__(self) -> str:
        return f"share {self.pk} of {self.item_id}"

    @property
    def held_from_label(self) -> str:
        return self.Status(self.held_from).label if self.held_from in self.Status.values else ""


class ShareVersion(TenantModel):
    """Every text a share has had; the archive keeps them all."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    commentary = models.TextField()
    network_texts = models.JSONField(default=dict, blank=True, db_default={})
    created_at = models.DateTimeField(auto_now_add=True)
    # The version's words for full-text search (advocacy.search), kept by the database.
    search_vector = search_vector_field("commentary", jsonb=("network_texts",))

    class Meta:
        ordering = ["share", "number"]
        constraints = [models.UniqueConstraint(fields=["share", "number"], name="share_version_unique")]
        indexes = [GinIndex(fields=["search_vector"], name="share_version_search_idx")]


TRACKING_CODE_ALPHABET = string.ascii_letters + string.digits
TRACKING_CODE_LENGTH = 8


def new_tracking_code() -> str:
    """8 letters and digits (47 bits). No "_" or "-" as token_urlsafe gives: LinkedIn's little
    text escapes "_" with a backslash, so a code with one counted one character more than
    the composer's stand-in link (content.services.sharing.sample_link)."""
    return "".join(secrets.choice(TRACKING_CODE_ALPHABET) for _ in range(TRACKING_CODE_LENGTH))


class Delivery(TenantModel):
    """A share's copy on one connected account (or an assisted share through the network's window)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        POSTED_ID_UNKNOWN = "posted_id_unknown", _("Posted (link not known yet)")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
        CANCELLED = "cancelled", _("Cancelled")

    class Mode(models.TextChoices):
        API = "api", _("Posted for you")
        ASSISTED = "assisted", _("You post it in the network's window")

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="deliveries")
    connection = models.ForeignKey(
        SocialConnection, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    network = models.CharField(max_length=20, choices=Network.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.API)
    text = models.TextField(help_text=_("The final text for this network."))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    tracking_code = models.CharField(max_length=16, unique=True, default=new_tracking_code)
    remote_id = models.CharField(max_length=255, blank=True)
    remote_url = models.URLField(max_length=2000, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Publishing (content.services.publishing): what was approved, when it is due, who holds it.
    approved_text_hash = models.CharField(
        max_length=64, blank=True, help_text=_("sha256 of the text as approved; a different text is not published.")
    )
    due_at = models.DateTimeField(null=True, blank=True, help_text=_("UTC; set when approved."))
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text=_("Not before this (backoff, 429 reset)."))
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("While publishing: after this the sweeper reconciles it.")
    )
    removed_at = models.DateTimeField(null=True, blank=True, help_text=_("We deleted the post on the network."))
    failure_reason = models.CharField(
        max_length=30, blank=True, help_text=_("Why it failed or waits, as a code (duplicate, too_long, transient...).")
    )
    outcome_unknown = models.BooleanField(
        default=False, help_text=_("A publish call got no answer: look for the post on the network before any retry.")
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the sweeper last enqueued it (spares a second message each minute).")
    )
    # Its picture as uploaded to the network for this delivery alone (content.services.publishing
    # .images): recorded before the post, reused by its own retries while valid, never by another.
    media_id = models.CharField(max_length=255, blank=True, db_default="")
    media_expires_at = models.DateTimeField(null=True, blank=True, help_text=_("When the network forgets the upload."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["share", "network"]
        indexes = [
            models.Index(fields=["status"], name="delivery_status_idx"),
            models.Index(fields=["status", "due_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.network})"


class ShareLinkUse(TenantModel):
    """A one-click share link from an e-mail that was used (content.services.email_links):
    the row is what makes the link single-use. Its `nonce` is the link's own, unique."""

    nonce = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="+")
    share = models.ForeignKey(Share, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"link {self.nonce} used by {self.user_id}"


class TeamsChannel(TenantModel):
    """A Microsoft Teams channel that gets new featured content as Adaptive Cards, through the
    webhook of a workflow an admin made in the channel (content.services.teams). The URL
    carries its own signature: it is stored encrypted and never shown back in full."""

    name = models.CharField(max_length=120)
    webhook_url = EncryptedTextField()
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Only content offered to this team; empty: content offered to everyone."),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_posted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class TeamsPost(TenantModel):
    """One content item posted to one Teams channel: the row that keeps it to once."""

    channel = models.ForeignKey(TeamsChannel, on_delete=models.CASCADE, related_name="posts")
    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="+")
    posted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-posted_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "item"], name="teams_post_once_per_channel")]

    def __str__(self) -> str:
        return f"item {self.item_id} in channel {self.channel_id}"


# --- Slack distribution (issue 22, point 1) ---------------------------------------------------


class SlackInstallation(TenantModel):
    """The organization's install of the Slack app in one workspace (OAuth v2, by a marketer
    or an admin). The bot token is encrypted at rest and never shown. A workspace serves one
    organization: Slack's requests name the workspace (`team_id`), which finds the tenant."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Installed")
        NEEDS_REINSTALL = "needs_reinstall", _("Needs reinstalling")

    team_id = models.CharField(max_length=32)
    team_name = models.CharField(max_length=200, blank=True)
    bot_user_id = models.CharField(max_length=32, blank=True)
    app_id = models.CharField(max_length=32, blank=True)
    bot_token = EncryptedTextField()
    scopes = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    installed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    installed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="slack_installation_one_per_org"),
            models.UniqueConstraint(fields=["team_id"], name="slack_installation_one_org_per_team"),
        ]

    def __str__(self) -> str:
        return f"Slack {self.team_name or self.team_id}"


class SlackChannelRoute(TenantModel):
    """A channel that receives new featured content: all of it, or only one topic's, or only
    what targets one team (both: items that match both); each item as it is featured, or a
    daily round-up of the day's new ones (`last_digest_at`: the last round-up sent)."""

    class Cadence(models.TextChoices):
        EACH = "each", _("Each item as it is featured")
        DAILY = "daily", _("A daily round-up")

    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.EACH)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    channel_id = models.CharField(max_length=32)
    channel_name = models.CharField(max_length=200)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel_id", "topic", "team"],
                name="slack_route_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"#{self.channel_name}"


class SlackPost(TenantModel):
    """One item's message in one channel: posted once (the unique pair), its `ts` kept for
    chat.update; `not_before` holds Slack's Retry-After; `shared_by` the Slack users who
    shared from it (the message says so)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        POSTED = "posted", _("Posted")
        FAILED = "failed", _("Failed")

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="slack_posts")
    channel_id = models.CharField(max_length=32)
    channel_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    ts = models.CharField(max_length=32, blank=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text=_("Slack's Retry-After: not before this."))
    error = models.CharField(max_length=300, blank=True)
    shared_by = models.JSONField(default=list, blank=True)
    in_round_up = models.BooleanField(
        default=False, help_text=_("Posted in a daily round-up (one message, many items).")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "item", "channel_id"], name="slack_post_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} in #{self.channel_name or self.channel_id}"


class SlackMemberLink(TenantModel):
    """A member's Slack user in the organization's workspace, found by the e-mail Slack has
    verified; `dm_digest` is the member's opt-in to a daily direct message of new featured
    content meant for them (`last_digest_at`: the last one sent)."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="slack_link")
    slack_user_id = models.CharField(max_length=32)
    dm_digest = models.BooleanField(default=False)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.membership_id} is {self.slack_user_id}"
