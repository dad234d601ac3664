import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import (
    ApiToken,
    Guideline,
    GuidelineAcceptance,
    Invitation,
    InvitationImport,
    Membership,
    NetworkApp,
    Notification,
    NotificationPreference,
    Organization,
    PushSubscription,
    Role,
    ScimGroup,
    ScimToken,
    ScimUser,
    SignupDomain,
    SocialConnection,
    SsoConfiguration,
    Team,
    TrainingItem,
    User,
)

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            if extracted is not False:
                EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    timezone = "Europe/Paris"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.DEPARTMENT


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    is_employee = True

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        if extracted is not None:
            obj.set_roles(extracted)
            obj.save()


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    roles = factory.LazyFunction(lambda: ["employee"])
    token_hash = factory.Sequence(lambda n: f"{n:064d}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))


class InvitationImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvitationImport

    organization = factory.SubFactory(OrganizationFactory)
    filename = "people.csv"
    csv_text = "email\nsomeone@example.com\n"
    total_rows = 1


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    name = "script"
    prefix = factory.Sequence(lambda n: f"{n:012x}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")


class SignupDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignupDomain

    organization = factory.SubFactory(OrganizationFactory)
    domain = factory.Sequence(lambda n: f"domain{n}.example")


class NetworkAppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NetworkApp

    organization = factory.SubFactory(OrganizationFactory)
    network = "linkedin"
    client_id = factory.Sequence(lambda n: f"client-{n}")
    client_secret = "app-secret-value"


class SocialConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialConnection

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    network = "linkedin"
    remote_id = factory.Sequence(lambda n: f"member{n}")
    name = factory.Faker("name")
    access_token = factory.Sequence(lambda n: f"access-token-{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=50))


class GuidelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guideline

    organization = factory.SubFactory(OrganizationFactory)
    version = factory.Sequence(lambda n: n + 1)
    title = "Social media guidelines"
    body = "Be yourself. Disclose that you work here. Never share customer data."


class GuidelineAcceptanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuidelineAcceptance

    organization = factory.SubFactory(OrganizationFactory)
    guideline = factory.SubFactory(GuidelineFactory, organization=factory.SelfAttribute("..organization"))
    user = factory.SubFactory(UserFactory)


class TrainingItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingItem

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    body = "Write in your own words; add the disclosure hashtag."
    position = factory.Sequence(lambda n: n)
    is_published = True


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    kind = Notification.Kind.SHARE_APPROVED
    message = factory.Sequence(lambda n: f"Your share {n} was approved.")
    url = "/"


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    kind = Notification.Kind.SHARE_APPROVED


class PushSubscriptionFactory(factory.django.DjangoModelFactory):
    """A device of a member; its endpoint names no push service that answers (keys are real)."""

    class Meta:
        model = PushSubscription

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    endpoint = factory.Sequence(lambda n: f"https://fcm.googleapis.com/fcm/send/device-{n}")
    # A valid P-256 point (the generator of the curve) and a 16-byte secret, base64url.
    p256dh = "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"
    auth = "AAAAAAAAAAAAAAAAAAAAAA"


class SsoConfigurationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SsoConfiguration

    organization = factory.SubFactory(OrganizationFactory)
    protocol = SsoConfiguration.Protocol.OIDC
    oidc_issuer = "http://127.0.0.1:9/"
    oidc_client_id = factory.Sequence(lambda n: f"client-{n}")
    oidc_client_secret = "not-a-real-secret"


def acting(organization, *roles) -> Membership:
    """A member of `organization` with `roles` (default: admin), to call a service as `actor=`:
    the first active one that has them, else a new one."""
    wanted = set(roles) or {Role.ADMIN}
    for membership in Membership.objects.for_org(organization).filter(is_active=True).order_by("pk"):
        if wanted <= membership.roles:
            return membership
    return MembershipFactory(organization=organization, roles=sorted(wanted))


class ScimTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScimToken

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Directory {n}")
    prefix = factory.Sequence(lambda n: f"{n:012x}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")


class ScimUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScimUser

    organization = factory.SubFactory(OrganizationFactory)
    membership = factory.SubFactory(MembershipFactory, organization=factory.SelfAttribute("..organization"))
    user_name = factory.Sequence(lambda n: f"scim{n}@example.com")
    email = factory.SelfAttribute("user_name")


class ScimGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScimGroup

    organization = factory.SubFactory(OrganizationFactory)
    team = factory.SubFactory(TeamFactory, organization=factory.SelfAttribute("..organization"))
