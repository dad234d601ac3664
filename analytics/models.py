"""Tracked links and clicks, engagement snapshots, daily rollups.

Data and invariants only. The metric pulls (`analytics.services.metrics`) write
`MetricSnapshot` rows and keep `DeliveryMetrics` (one row per published delivery: the
highest value seen of each counter, so what the dashboards show never goes backwards,
and when to pull next).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from advocacy.bearer_keys import BearerKey
from advocacy.tenancy import TenantModel
from content.models import Delivery


class DeliveryMetrics(TenantModel):
    """The latest engagement of one published delivery and its pull schedule.

    A counter is NULL when the network does not give it ("not available", never 0).
    """

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="metrics")
    network = models.CharField(max_length=20)
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    comments = models.PositiveBigIntegerField(null=True, blank=True)
    reposts = models.PositiveBigIntegerField(null=True, blank=True)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)
    pulls = models.PositiveIntegerField(default=0)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    next_pull_at = models.DateTimeField(null=True, blank=True, help_text=_("NULL: past the horizon, never again."))
    deleted_on_network_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_pull_at"], name="metrics_next_pull_idx")]


class MetricSnapshot(TenantModel):
    """What the network answered at one pull (raw, may go down; kept for the archive and rebuilds)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="metric_snapshots")
    taken_at = models.DateTimeField()
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    comments = models.PositiveBigIntegerField(null=True, blank=True)
    reposts = models.PositiveBigIntegerField(null=True, blank=True)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "taken_at"]
        indexes = [models.Index(fields=["organization", "delivery", "taken_at"], name="snapshot_delivery_idx")]


class RollupCounters(TenantModel):
    """The counters every daily rollup table carries (added to by `rollups.add` only)."""

    shares = models.BigIntegerField(default=0)
    published = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(default=0)
    comments = models.BigIntegerField(default=0)
    reposts = models.BigIntegerField(default=0)
    impressions = models.BigIntegerField(default=0)
    estimated_reach = models.BigIntegerField(default=0, help_text=_("Followers at posting time (an estimate)."))
    api_posts = models.BigIntegerField(default=0, help_text=_("Published deliveries sent through the network's API."))
    api_link_posts = models.BigIntegerField(default=0, help_text=_("Of those, posts whose text carries a link."))
    conversions = models.BigIntegerField(
        default=0, help_text=_("Conversions attributed to posts (counted on their day).")
    )
    conversion_value = models.BigIntegerField(
        default=0, help_text=_("Their value in cents of the organization's currency (other currencies: not added).")
    )
    won_revenue = models.BigIntegerField(
        default=0,
        help_text=_(
            "Closed-won deals attributed to posts, in cents of the organization's currency, on their close day."
        ),
    )
    pipeline = models.BigIntegerField(
        default=0,
        help_text=_(
            "Open deals attributed to posts, in cents of the organization's currency, on their conversion day."
        ),
    )

    COUNTERS = (
        "shares",
        "published",
        "api_posts",
        "api_link_posts",
        "clicks",
        "unique_clicks",
        "likes",
        "comments",
        "reposts",
        "impressions",
        "estimated_reach",
        "conversions",
        "conversion_value",
        "won_revenue",
        "pipeline",
    )

    class Meta(TenantModel.Meta):
        abstract = True


class DailyRollup(RollupCounters):
    """One day (in the organization's timezone) x team x network x content item.

    Updated incrementally (`analytics.services.rollups.add`) by share submission and
    publishing, the click flush and the metric pulls; `rebuild_rollups` recomputes it from
    raw rows and must match. `team_key` is the share's team id, 0 when it has none (a
    plain integer so the unique key has no NULLs). A share is not tied to one network, so
    share counts sit in rows with `network = ""`; every other counter has a network.
    Engagement counts the increase of the highest value seen, on the day it was seen, so a
    snapshot is never counted twice.
    """

    day = models.DateField()
    team_key = models.PositiveBigIntegerField(default=0)
    network = models.CharField(max_length=20)
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "team_key", "network", "item"], name="rollup_unique_key"
            )
        ]
        indexes = [models.Index(fields=["organization", "day"], name="rollup_org_day_idx")]


class ClickDiscardReason(models.TextChoices):
    """Why a click on a tracked link was recorded but not counted (issue 15, point 4)."""

    BOT = "bot", _("Bot or link preview")
    RATE = "rate", _("Over the per-address rate")
    NOT_PUBLISHED = "not_published", _("Post not published")


class Click(TenantModel):
    """One click on a tracked link (`/r/<code>`), written by the click flush
    (`analytics.services.clicks`). HEAD is never recorded. A click with a `discard_reason`
    (a bot or link preview, an address over the per-minute rate, a delivery not posted) is
    kept for the record but counts nowhere: not in the rollups, never unique.

    `id` is made when the redirect answers, so a batch flushed twice inserts each click once.
    `visitor` is an HMAC of the visitor's address (IPv4, or an IPv6 /64) under a salt that changes
    every day: it tells one visitor's clicks apart within a day and nothing more; no IP
    address is kept. `is_unique` marks a visitor's first click on the delivery that day.
    `network`, `item` and `team_key` repeat the delivery's rollup key as it was at the
    click, so a rebuild groups clicks without joins.

    The table is partitioned by month of `day` (migration 0017_click_partitions,
    `analytics.services.click_partitions`): the rollups, their rebuild and the retention all
    select by local day, so they read only the months they name, and an old month leaves as
    one DROP. PostgreSQL wants the partition key in every unique constraint, hence the
    primary key (id, day): a click's day is fixed when the redirect answers, with its id, so
    the pair is as unique as the id and a flush repeated still inserts each click once.
    """

    pk = models.CompositePrimaryKey("id", "day")
    id = models.UUIDField(editable=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField()
    day = models.DateField(help_text=_("The click's date in the organization's timezone."))
    visitor = models.CharField(
        max_length=32, help_text=_("Salted per-day hash of the address (IPv4 whole, IPv6 its /64).")
    )
    is_unique = models.BooleanField(default=False)
    network = models.CharField(max_length=20)
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+", db_index=False)
    team_key = models.PositiveBigIntegerField(default=0)
    discard_reason = models.CharField(
        max_length=16, choices=ClickDiscardReason.choices, blank=True, default="", db_default=""
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "day", "visitor"],
                condition=models.Q(is_unique=True),
                name="click_one_unique_per_visitor_day",
            )
        ]
        indexes = [models.Index(fields=["organization", "day"], name="click_org_day_idx")]


class DailyClickDiscard(TenantModel):
    """Clicks recorded but not counted, per local day and reason: what the dashboards read
    (never raw clicks). Added to by the click flush only, in the transaction that writes the
    clicks, so it moves with them."""

    day = models.DateField()
    reason = models.CharField(max_length=16, choices=ClickDiscardReason.choices)
    clicks = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "reason"], name="click_discard_unique_key")
        ]


# --- advocates: points, leaderboard, per-author and per-suggestion stats (issue 8) --------------


class PointsRules(TenantModel):
    """How an organization scores its advocates (one row per organization; no row = the defaults)."""

    points_per_share = models.PositiveSmallIntegerField(default=1, help_text=_("For each share submitted."))
    points_per_post = models.PositiveSmallIntegerField(default=5, help_text=_("For each post published on a network."))
    points_per_click = models.PositiveSmallIntegerField(default=1, help_text=_("For each click on a tracked link."))
    points_per_engagement = models.PositiveSmallIntegerField(
        default=2, help_text=_("For each like, comment or repost the networks report.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="points_rules_one_per_org")]


class AdvocatePreference(TenantModel):
    """A member's analytics choices: hidden from the leaderboard, the executives' weekly summary.

    No row means the defaults: visible on the leaderboard, no weekly summary.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    hidden_from_leaderboard = models.BooleanField(default=False)
    weekly_summary = models.BooleanField(default=False, help_text=_("E-mail me the program's week (executives)."))
    weekly_summary_sent_for = models.DateField(
        null=True, blank=True, help_text=_("The Monday of the last week summarised for this member.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="advocate_preference_unique")]


class AdvocateCounters(TenantModel):
    """One author's counters, per day (`AdvocateDailyStats`) or per preset window
    (`AdvocateWindowStats`). An engagement sum is NULL when no post reported it."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    shares = models.BigIntegerField(default=0)
    posts = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(null=True, blank=True)
    comments = models.BigIntegerField(null=True, blank=True)
    reposts = models.BigIntegerField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        abstract = True


class AdvocateDailyStats(AdvocateCounters):
    """One day (org timezone) x author: shares submitted that day, and the posts published that
    day with their engagement so far (engagement belongs to the post's day: a cohort).

    Rebuilt per day by `analytics.services.advocate_stats.refresh` from raw rows (idempotent).
    An engagement sum is NULL when no post of the row reported that counter ("not available").
    """

    day = models.DateField()
    unique_clicks = models.BigIntegerField(default=0)
    impressions = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "user"], name="advocate_stats_unique_key")
        ]


class AdvocateWindowStats(AdvocateCounters):
    """Per-author totals of each preset window ("the last N days", N in `periods.PRESETS`)
    ending on the local day `through`, summed from `AdvocateDailyStats` by the same refresh
    that writes those (`advocate_stats.refresh_windows`), so both always agree.

    The executive dashboard reads these for a preset period ending on `through` (its default
    view): one row per author instead of one per author per day. Any other period sums the
    daily rows. `active_before`: the author shared in the N days before the window.
    """

    window_days = models.PositiveSmallIntegerField()
    through = models.DateField()
    active_before = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "window_days", "through", "user"], name="advocate_window_unique_key"
            )
        ]


class ContentDailyStats(TenantModel):
    """One day (org timezone, of publication) x item x suggestion used x personalised or verbatim.

    `suggestion_key` is the suggestion's id, 0 when the employee started from a blank page.
    """

    day = models.DateField()
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    suggestion_key = models.PositiveBigIntegerField(default=0)
    personalised = models.BooleanField()
    # The share's language (content.Share.language; issue 23): the marketer cuts by it.
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    posts = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(null=True, blank=True)
    comments = models.BigIntegerField(null=True, blank=True)
    reposts = models.BigIntegerField(null=True, blank=True)
    impressions = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "item", "suggestion_key", "personalised", "language"],
                name="content_stats_unique_key",
            )
        ]


class PostingTimeStats(TenantModel):
    """Posts published in one local hour of one day (org timezone) and their engagement so far."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    posts = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(null=True, blank=True)
    comments = models.BigIntegerField(null=True, blank=True)
    reposts = models.BigIntegerField(null=True, blank=True)
    impressions = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day", "hour"], name="posting_time_unique_key")]


class StatsRefresh(TenantModel):
    """Where the per-author / per-suggestion refresh of one organization got to (its watermark)."""

    refreshed_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="stats_refresh_one_per_org")]


class DailySummary(RollupCounters):
    """`DailyRollup` without the content item: one day x team x network, same counters.

    Written by `rollups.add` in the same transaction as the detailed row (and rebuilt from
    it), so the dashboards' totals, trends and team breakdowns read a few hundred rows a
    month instead of one row per item.
    """

    day = models.DateField()
    team_key = models.PositiveBigIntegerField(default=0)
    network = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "team_key", "network"], name="summary_unique_key")
        ]


class DailyItemSummary(RollupCounters):
    """`DailyRollup` without team and network: one day x content item, same counters.

    Written by `rollups.add` beside the other two (and rebuilt from `DailyRollup`), so "top
    content" reads one row per item shared that day instead of one per team and network.
    """

    day = models.DateField()
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day", "item"], name="item_summary_unique_key")]
        indexes = [
            # The executive report's outcome leaders (roi._OUTCOME_LEADERS_SQL) read only the
            # days of items that brought something: without it the planner walked every row of
            # the organization (17 ms at 100k deliveries; 0.1 ms with it). Its condition is the
            # statement's filter, which it must keep matching.
            models.Index(
                fields=["organization", "day"],
                condition=~models.Q(conversions=0)
                | ~models.Q(conversion_value=0)
                | ~models.Q(won_revenue=0)
                | ~models.Q(pipeline=0),
                name="item_summary_outcome_idx2",
            )
        ]


class DailyAuthorOutcome(TenantModel):
    """What one employee's posts brought on one day: attributed conversions and won revenue.

    The rollups above have no author, so the per-employee outcomes of the executive report
    and of My stats read this small table (one row per day x author with an outcome, never
    raw conversions or deals). Written by `rollups.add` when a producer names the author
    (the conversion's attribution and the deal's booking, in their own transaction), and
    rebuilt from raw rows by `rollups.rebuild`. `author_key` is the author's user id, 0
    when the author was removed.
    """

    day = models.DateField()
    author_key = models.PositiveBigIntegerField(default=0)
    conversions = models.BigIntegerField(default=0)
    conversion_value = models.BigIntegerField(default=0, help_text=_("In cents of the organization's currency."))
    won_revenue = models.BigIntegerField(default=0, help_text=_("In cents of the organization's currency."))
    pipeline = models.BigIntegerField(default=0, help_text=_("Open deals, in cents of the organization's currency."))

    COUNTERS = ("conversions", "conversion_value", "won_revenue", "pipeline")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "author_key"], name="author_outcome_unique_key")
        ]


class ActivityWatermark(TenantModel):
    """How far `rollups.fold_activity` has counted shares and published deliveries.

    Shares created before `shares_through` and deliveries published before
    `published_through` are in the rollups; later ones are not yet. The fold moves both
    marks in the same transaction as the rollup increments, so each event counts once;
    `rebuild` counts exactly the events before the marks, so it matches.
    """

    shares_through = models.DateTimeField()
    published_through = models.DateTimeField()
    metrics_checked_through = models.DateTimeField()
    raw_clicks_from = models.DateField(
        null=True,
        blank=True,
        help_text=_(
            "Raw clicks of earlier local days were dropped after the retention period; "
            "their rollups are the only record left, so a rebuild leaves those days alone."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="activity_watermark_one_per_org")]


class MetricAvailability(TenantModel):
    """Which engagement counters a network has ever given this organization.

    A network that never gave a counter (Facebook impressions; LinkedIn without the
    approved analytics scopes) shows "not available" on the dashboards, never 0. Kept
    up to date from new metric snapshots by the activity fold; `rebuild` recomputes it.
    """

    network = models.CharField(max_length=20)
    likes = models.BooleanField(default=False)
    comments = models.BooleanField(default=False)
    reposts = models.BooleanField(default=False)
    impressions = models.BooleanField(default=False)
    snapshots = models.BooleanField(default=False, help_text=_("At least one metric pull answered for this network."))

    METRICS = ("likes", "comments", "reposts", "impressions")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "network"], name="metric_availability_unique_network")
        ]


def _money(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, **kwargs)


class ConversionKey(TenantModel, BearerKey):
    """An organization's key for the conversion API (`Authorization: Bearer cvk_...`): it can
    report conversions of its organization and nothing else. Stored hashed, shown once,
    revocable (`advocacy.bearer_keys`)."""

    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (cvk_{self.prefix}_…)"


class ConversionStatus(models.TextChoices):
    ATTRIBUTED = "attributed", _("Attributed to a post")
    PENDING = "pending", _("Waiting for its click to be recorded")
    UNATTRIBUTED = "unattributed", _("Not attributed")


class UnattributedReason(models.TextChoices):
    UNKNOWN_CODE = "unknown_code", _("Tracking code unknown in this organization")
    NO_CLICK = "no_click", _("No click on that link before the event")
    OUTSIDE_WINDOW = "outside_window", _("Last click older than the attribution window")
    NO_TOUCH = "no_touch", _("No tracking code given")


class Conversion(TenantModel):
    """A business event (a sign-up, a purchase) reported by the organization's site or server,
    attributed to the employee's post whose tracked link led to it (`analytics.services.
    conversions`). Idempotent by the caller's `event_id` per organization: a replay changes
    nothing and is counted in `replays`. Kept whether attributed or not: an event never
    disappears; the dashboards show the unattributed ones on their own line, by reason.

    `day` is the event's local day (organization's timezone): the rollups count an
    attributed conversion on that day, with the delivery's team, network and item.
    """

    event_id = models.CharField(max_length=100)
    event_name = models.CharField(max_length=64)
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    value_counted = models.BooleanField(
        default=False, help_text=_("The value is in the organization's currency and was added to the rollups.")
    )
    occurred_at = models.DateTimeField()
    day = models.DateField()
    received_at = models.DateTimeField(auto_now_add=True)
    tracking_code = models.CharField(max_length=32, blank=True)
    email_digest = models.CharField(
        max_length=64, blank=True, help_text=_("Keyed hash of the visitor's e-mail when sent (never the address).")
    )
    source = models.CharField(max_length=16, default="api")
    status = models.CharField(max_length=16, choices=ConversionStatus.choices)
    reason = models.CharField(max_length=16, choices=UnattributedReason.choices, blank=True)
    attribution = models.CharField(max_length=16, default="last_click")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text=_("The click the conversion is attributed to."))
    author = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    item = models.ForeignKey("content.ContentItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team_key = models.PositiveBigIntegerField(default=0)
    network = models.CharField(max_length=20, blank=True)
    replays = models.PositiveIntegerField(default=0, help_text=_("Times the same event id was sent again."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "event_id"], name="conversion_one_per_event_id")]
        indexes = [
            models.Index(fields=["organization", "day"], name="conversion_org_day_idx"),
            models.Index(
                fields=["organization", "received_at"],
                condition=models.Q(status="pending"),
                name="conversion_pending_idx",
            ),
            models.Index(fields=["organization", "tracking_code"], name="conversion_code_idx"),
            models.Index(
                fields=["organization", "email_digest"],
                condition=~models.Q(email_digest=""),
                name="conversion_email_idx",
            ),
        ]


class AnalyticsSettings(TenantModel):
    """The organization's rates (EMV) and program cost (ROI); one row per organization.

    Empty means "not set": a network without a CPM adds nothing to EMV and the page says
    so, rather than pretending a rate of 0.
    """

    currency = models.CharField(max_length=3, default="USD")
    cpm_linkedin = _money(help_text=_("Value of 1,000 LinkedIn impressions."))
    cpm_x = _money(help_text=_("Value of 1,000 X impressions."))
    cpm_facebook = _money(help_text=_("Value of 1,000 Facebook impressions."))
    cpc = _money(help_text=_("Value of one click on a tracked link."))
    licence_per_month = _money(help_text=_("What the program's licence costs per month."))
    people_hours_per_month = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, help_text=_("Hours people spend running the program.")
    )
    people_hourly_cost = _money(help_text=_("Cost of one of those hours."))
    api_post_cost_linkedin = _money(help_text=_("Charge per post sent through LinkedIn's API."))
    api_post_cost_x = _money(help_text=_("Charge per post sent through X's API (no link)."))
    api_link_post_cost_x = _money(help_text=_("Charge per post with a link sent through X's API."))
    api_post_cost_facebook = _money(help_text=_("Charge per post sent through Facebook's API."))
    attribution_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("A conversion counts for the last click on a post at most this many days before it.")
    )
    conversion_origins = models.TextField(
        blank=True, help_text=_("Sites whose pages may report conversions from the browser, one origin a line.")
    )
    browser_events = models.CharField(
        max_length=300, default="signup", help_text=_("Event names the browser snippet may report, comma-separated.")
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    RATE_FIELDS = (
        "cpm_linkedin",
        "cpm_x",
        "cpm_facebook",
        "cpc",
        "licence_per_month",
        "people_hours_per_month",
        "people_hourly_cost",
        "api_post_cost_linkedin",
        "api_post_cost_x",
        "api_link_post_cost_x",
        "api_post_cost_facebook",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="analytics_settings_one_per_org")]

    def allowed_origins(self) -> set[str]:
        return {line.strip().rstrip("/").lower() for line in self.conversion_origins.splitlines() if line.strip()}

    def allowed_browser_events(self) -> set[str]:
        return {name.strip().lower() for name in self.browser_events.split(",") if name.strip()}

    def cpm(self, network: str):
        return getattr(self, f"cpm_{network}", None)


# --- CRM revenue (issue 17, point 3) ----------------------------------------------------------


class CrmProvider(models.TextChoices):
    HUBSPOT = "hubspot", _("HubSpot")


class CrmConnection(TenantModel):
    """An organization's connection to its CRM (HubSpot, OAuth), made by an org admin.

    Tokens are encrypted at rest (`accounts.fields.EncryptedTextField`) and never shown.
    `cursor_ms` is the last `hs_lastmodifieddate` (epoch ms) the sync has booked: the next
    sync asks for deals modified at or after it. `retry_after` holds HubSpot's Retry-After
    (the beat leaves the connection alone until then).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Connected")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")

    provider = models.CharField(max_length=16, choices=CrmProvider.choices, default=CrmProvider.HUBSPOT)
    portal_id = models.CharField(max_length=32, blank=True)
    portal_domain = models.CharField(max_length=255, blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    cursor_ms = models.BigIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)
    sync_lease_until = models.DateTimeField(
        null=True, blank=True, help_text=_("A sync holds the connection until then.")
    )
    connected_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="crm_connection_one_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.portal_domain or self.portal_id}"


class DealSource(models.TextChoices):
    HUBSPOT = "hubspot", _("HubSpot")
    CSV = "csv", _("CSV import")


class DealStatus(models.TextChoices):
    ATTRIBUTED = "attributed", _("Attributed to a post")
    UNATTRIBUTED = "unattributed", _("Not attributed")
    NOT_WON = "not_won", _("Closed lost")  # the value predates open deals (pipeline): it means closed, not won


class DealReason(models.TextChoices):
    UNKNOWN_CODE = "unknown_code", _("Tracking code unknown in this organization")
    NO_CONVERSION = "no_conversion", _("No attributed conversion for its code or e-mail by the close date")
    NO_TOUCH = "no_touch", _("Neither a tracking code nor an e-mail")
    NO_CLOSE_DATE = "no_close_date", _("No close date")


class Deal(TenantModel):
    """A CRM deal (HubSpot, or a row of an imported CSV), one row per organization, source and
    external id: a re-sync or re-import updates it, never duplicates it.

    A closed-won deal, and an open one (its pipeline), is attributed through a conversion
    (`analytics.services.deals`): its tracking code (the deal's own, else its contact's
    first-touch utm_content), else its contact's e-mail, names the latest attributed
    conversion at or before the close date, whose delivery, author, item, team and network
    the deal takes. Its amount, when in the organization's currency, is added to the
    rollups' `won_revenue` on the close day, or, while the deal is open, to their
    `pipeline` on the day of its conversion. A closed-lost deal counts in neither.

    The `booked_*` columns are exactly what this deal has added to the rollups now: a
    change (new amount, another close day, leaving closed-won) books the difference
    against them, so a deal counts once with its latest amount, and `rebuild` sums them.
    """

    source = models.CharField(max_length=16, choices=DealSource.choices)
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    close_date = models.DateField(null=True, blank=True)
    stage = models.CharField(max_length=64, blank=True)
    is_won = models.BooleanField(default=False)
    is_closed = models.BooleanField(
        default=True, help_text=_("Closed (won or lost); an open deal counts in the pipeline (HubSpot: hs_is_closed).")
    )
    tracking_code = models.CharField(max_length=32, blank=True)
    code_from = models.CharField(
        max_length=16, blank=True, help_text=_("Where the code came from: deal, contact or csv.")
    )
    email_digest = models.CharField(max_length=64, blank=True, help_text=_("Keyed hash of the contact's e-mail."))
    status = models.CharField(max_length=16, choices=DealStatus.choices)
    reason = models.CharField(max_length=16, choices=DealReason.choices, blank=True)
    amount_counted = models.BooleanField(
        default=False,
        help_text=_("Attributed, won or open, in the organization's currency: in won revenue or in the pipeline."),
    )
    conversion = models.ForeignKey(Conversion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    item = models.ForeignKey("content.ContentItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team_key = models.PositiveBigIntegerField(default=0)
    network = models.CharField(max_length=20, blank=True)
    booked_cents = models.BigIntegerField(default=0)
    booked_day = models.DateField(null=True, blank=True)
    booked_team_key = models.PositiveBigIntegerField(default=0)
    booked_network = models.CharField(max_length=20, blank=True)
    booked_item = models.ForeignKey(
        "content.ContentItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    booked_author_key = models.PositiveBigIntegerField(default=0)
    booked_counter = models.CharField(
        max_length=16, blank=True, help_text=_("The rollup counter booked_cents is in: won_revenue or pipeline.")
    )
    remote_modified_ms = models.BigIntegerField(null=True, blank=True, help_text=_("HubSpot's hs_lastmodifieddate."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "source", "external_id"], name="deal_one_per_external_id")
        ]
        indexes = [models.Index(fields=["organization", "close_date"], name="deal_org_close_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} deal {self.external_id}"


class ReportVersion(TenantModel):
    """A counter per organization that moves with every write the executive report reads.

    `analytics.services.report_version.bump` adds 1 in the same transaction as the write
    (rollup increments, the activity fold and its watermark, rebuilds, the per-author
    refresh, discarded clicks, conversions and their keys, deals, the CRM connection, the
    rates and costs), so a report cached under one version (`selectors.report_cache`) is
    never served once any of its inputs has changed.
    """

    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="report_version_one_per_org")]
