import factory
from django.utils import timezone

from compliance.models import (
    AllowedDomain,
    ArchiveDestination,
    ArchiveExport,
    ArchiveFeedRun,
    AuditEntry,
    Decision,
    LexiconTerm,
    PatternRule,
    PendingPolicyChange,
    Policy,
    ReviewRule,
    ReviewTask,
    Screening,
)
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.content.factories import ShareFactory


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)


class PendingPolicyChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PendingPolicyChange

    organization = factory.SubFactory(OrganizationFactory)
    changes = factory.LazyFunction(lambda: {"four_eyes": False})


class LexiconTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LexiconTerm

    organization = factory.SubFactory(OrganizationFactory)
    term = factory.Sequence(lambda n: f"guaranteed{n}")
    action = "review"


class PatternRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatternRule

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    pattern = r"\b\d{1,3}\s?% returns?\b"


class AllowedDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllowedDomain

    organization = factory.SubFactory(OrganizationFactory)
    domain = factory.Sequence(lambda n: f"acme{n}.example")


class ReviewRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewRule

    team = factory.SubFactory(TeamFactory)
    organization = factory.SelfAttribute("team.organization")
    review_mode = "all"


class ScreeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Screening

    share = factory.SubFactory(ShareFactory)
    organization = factory.SelfAttribute("share.organization")
    outcome = "in_review"


class ReviewTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewTask

    share = factory.SubFactory(ShareFactory)
    organization = factory.SelfAttribute("share.organization")
    due_at = factory.LazyFunction(timezone.now)
    opened_at = factory.LazyFunction(timezone.now)


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    share = factory.SubFactory(ShareFactory)
    organization = factory.SelfAttribute("share.organization")
    version = 1
    outcome = "approved"
    decided_at = factory.LazyFunction(timezone.now)


class AuditEntryFactory(factory.django.DjangoModelFactory):
    """Only for tests of reads; real entries are written by the recorder (hash chain)."""

    class Meta:
        model = AuditEntry

    organization = factory.SubFactory(OrganizationFactory)
    sequence = factory.Sequence(lambda n: n + 1)
    at = factory.LazyFunction(timezone.now)
    action = "test.entry"
    previous_hash = "0" * 64
    hash = "0" * 64


class ArchiveExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArchiveExport

    organization = factory.SubFactory(OrganizationFactory)
    date_from = factory.LazyFunction(lambda: timezone.now().date())
    date_to = factory.LazyFunction(lambda: timezone.now().date())


class ArchiveDestinationFactory(factory.django.DjangoModelFactory):
    """An S3-compatible destination nobody can reach (tests that deliver give real settings)."""

    class Meta:
        model = ArchiveDestination

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Vendor drop {n}")
    kind = ArchiveDestination.Kind.S3
    endpoint_url = "http://127.0.0.1:9"
    bucket = "archive"
    access_key_id = "AKIAEXAMPLE"
    secret_access_key = "not-a-real-secret"


class ArchiveFeedRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArchiveFeedRun

    organization = factory.SubFactory(OrganizationFactory)
    destination = factory.SubFactory(ArchiveDestinationFactory, organization=factory.SelfAttribute("..organization"))
    folder = factory.LazyFunction(lambda: timezone.now().date().isoformat())
    window_end = factory.LazyFunction(timezone.now)
    started_at = factory.LazyFunction(timezone.now)
