import uuid

import factory
from django.utils import timezone

from analytics.models import (
    ActivityWatermark,
    AdvocateDailyStats,
    AdvocatePreference,
    AdvocateWindowStats,
    AnalyticsSettings,
    Click,
    ContentDailyStats,
    Conversion,
    ConversionKey,
    CrmConnection,
    DailyAuthorOutcome,
    DailyClickDiscard,
    DailyItemSummary,
    DailyRollup,
    DailySummary,
    Deal,
    DeliveryMetrics,
    MetricAvailability,
    MetricSnapshot,
    PointsRules,
    PostingTimeStats,
    ReportVersion,
    StatsRefresh,
)
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.content.factories import ContentItemFactory, DeliveryFactory


class DeliveryMetricsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryMetrics

    delivery = factory.SubFactory(DeliveryFactory)
    organization = factory.SelfAttribute("delivery.organization")
    network = factory.SelfAttribute("delivery.network")


class MetricSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricSnapshot

    delivery = factory.SubFactory(DeliveryFactory)
    organization = factory.SelfAttribute("delivery.organization")
    taken_at = factory.LazyFunction(timezone.now)
    likes = 1


class DailyRollupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyRollup

    item = factory.SubFactory(ContentItemFactory)
    organization = factory.SelfAttribute("item.organization")
    day = factory.LazyFunction(lambda: timezone.now().date())
    network = "linkedin"


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    id = factory.LazyFunction(uuid.uuid4)
    delivery = factory.SubFactory(DeliveryFactory)
    organization = factory.SelfAttribute("delivery.organization")
    item = factory.SelfAttribute("delivery.share.item")
    network = factory.SelfAttribute("delivery.network")
    at = factory.LazyFunction(timezone.now)
    day = factory.LazyAttribute(lambda o: o.at.date())
    visitor = factory.Sequence(lambda n: f"{n:032x}")
    is_unique = True


class ActivityWatermarkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityWatermark

    organization = factory.SubFactory("tests.accounts.factories.OrganizationFactory")
    shares_through = factory.LazyFunction(timezone.now)
    published_through = factory.LazyFunction(timezone.now)
    metrics_checked_through = factory.LazyFunction(timezone.now)


class MetricAvailabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricAvailability

    organization = factory.SubFactory("tests.accounts.factories.OrganizationFactory")
    network = "x"
    snapshots = True
    likes = True
    comments = True
    reposts = True
    impressions = True


class AnalyticsSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalyticsSettings

    organization = factory.SubFactory("tests.accounts.factories.OrganizationFactory")


# --- issue 8: points, leaderboard, per-author / per-suggestion stats ------------------------


class PointsRulesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PointsRules

    organization = factory.SubFactory(OrganizationFactory)


class AdvocatePreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdvocatePreference

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)


class AdvocateDailyStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdvocateDailyStats

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())


class AdvocateWindowStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdvocateWindowStats

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    window_days = 30
    through = factory.LazyFunction(lambda: timezone.now().date())


class ContentDailyStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentDailyStats

    item = factory.SubFactory(ContentItemFactory)
    organization = factory.SelfAttribute("item.organization")
    day = factory.LazyFunction(lambda: timezone.now().date())
    personalised = True


class PostingTimeStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostingTimeStats

    organization = factory.SubFactory(OrganizationFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    hour = 9


class StatsRefreshFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatsRefresh

    organization = factory.SubFactory(OrganizationFactory)
    refreshed_until = factory.LazyFunction(timezone.now)


class ReportVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportVersion

    organization = factory.SubFactory(OrganizationFactory)
    version = 1


class DailySummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailySummary

    organization = factory.SubFactory("tests.accounts.factories.OrganizationFactory")
    day = factory.LazyFunction(lambda: timezone.now().date())
    network = "linkedin"


class DailyItemSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyItemSummary

    organization = factory.SubFactory(OrganizationFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    item = factory.SubFactory(ContentItemFactory, organization=factory.SelfAttribute("..organization"))


class DailyAuthorOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyAuthorOutcome

    organization = factory.SubFactory(OrganizationFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    author_key = factory.Sequence(lambda n: n + 1)


class DailyClickDiscardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyClickDiscard

    organization = factory.SubFactory(OrganizationFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    reason = "bot"
    clicks = 1


class ConversionKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConversionKey

    organization = factory.SubFactory(OrganizationFactory)
    name = "Website"
    prefix = factory.Sequence(lambda n: f"{n:012x}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")


class ConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversion

    organization = factory.SubFactory(OrganizationFactory)
    event_id = factory.Sequence(lambda n: f"evt-{n}")
    event_name = "signup"
    occurred_at = factory.LazyFunction(timezone.now)
    day = factory.LazyAttribute(lambda o: o.occurred_at.date())
    status = "unattributed"
    reason = "no_touch"


class CrmConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrmConnection

    organization = factory.SubFactory(OrganizationFactory)
    provider = "hubspot"
    portal_id = "4242001"
    access_token = "hsa-factory"
    refresh_token = "hsr-factory"


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    organization = factory.SubFactory(OrganizationFactory)
    source = "csv"
    external_id = factory.Sequence(lambda n: f"deal-{n}")
    amount = "1000.00"
    currency = "USD"
    is_won = True
    status = "unattributed"
    reason = "no_touch"
