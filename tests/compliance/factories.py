import factory
from django.utils import timezone

from compliance.models import (
    AllowedDomain,
    ArchiveDestination,
    ArchiveExport,
    ArchiveFeedRun,
    AuditEntry,
    Decision,
    LegalHold,
    LexiconTerm,
    PatternRule,
    PendingAuditEntry,
    PendingPolicyChange,
    Policy,
    ReviewRule,
    ReviewTask,
    ReviewTaskSupervisor,
    Screening,
    SupervisionAssignment,
)
from tests.accounts.factories import OrganizationFactory, TeamFactory, UserFactory
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


class PendingAuditEntryFactory(factory.django.DjangoModelFactory):
    """Only for tests of reads; real pending entries are written by the recorder."""

    class Meta:
        model = PendingAuditEntry

    organization = factory.SubFactory(OrganizationFactory)
    at = factory.LazyFunction(timezone.now)
    action = "test.entry"


class ArchiveExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArchiveExport

    organization = factory.SubFactory(OrganizationFactory)
    date_from = factory.LazyFunction(lambda: timezone.now().date())
    date_to = factory.LazyFunction(lambda: timezone.now().date())


class SupervisionAssignmentFactory(factory.django.DjangoModelFactory):
    """A fallback-pool assignment of a user (not made a member: the service checks that)."""

    class Meta:
        model = SupervisionAssignment

    organization = factory.SubFactory(OrganizationFactory)
    reviewer = factory.SubFactory(UserFactory)
    scope = SupervisionAssignment.Scope.FALLBACK


class ReviewTaskSupervisorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewTaskSupervisor

    task = factory.SubFactory(ReviewTaskFactory)
    organization = factory.SelfAttribute("task.organization")
    user = factory.SubFactory(UserFactory)
    reason = ReviewTaskSupervisor.Reason.EVERYONE


class LegalHoldFactory(factory.django.DjangoModelFactory):
    """A hold on a range of days (the scope a factory can give without other rows)."""

    class Meta:
        model = LegalHold

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Matter 2026-{n}")
    reason = "Litigation expected."
    date_from = factory.LazyFunction(lambda: timezone.now().date())
    placed_at = factory.LazyFunction(timezone.now)


def submitted(membership, text, *, networks=("linkedin",), suggestion=None, item=None):
    """A share `membership` submits through the product's service (screened and routed as in use)."""
    from content.services import sharing
    from tests.content.factories import ContentItemFactory

    item = item or ContentItemFactory(organization=membership.organization)
    return sharing.submit_share(
        confirm_repeat=True,
        actor=membership,
        item_id=item.pk,
        commentary=text,
        target_keys=[f"assisted:{n}" for n in networks],
        suggestion_id=suggestion.pk if suggestion else None,
    )


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
