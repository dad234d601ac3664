import factory
from django.utils import timezone

from content.models import (
    ContentFeed,
    ContentItem,
    ContentProposal,
    ContentVariant,
    Delivery,
    Share,
    ShareLinkUse,
    ShareVersion,
    SlackChannelRoute,
    SlackInstallation,
    SlackMemberLink,
    SlackPost,
    Suggestion,
    TeamsChannel,
    TeamsPost,
    Topic,
)
from tests.accounts.factories import MembershipFactory, OrganizationFactory, UserFactory


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ContentItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentItem

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Acme news {n}")
    slug = factory.Sequence(lambda n: f"acme-news-{n}")
    url = factory.Sequence(lambda n: f"https://acme.example/news/{n}?ref=site")
    description = "What happened at Acme this week."
    status = ContentItem.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class SuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suggestion

    item = factory.SubFactory(ContentItemFactory)
    organization = factory.SelfAttribute("item.organization")
    text = factory.Sequence(lambda n: f"Proud of what our team shipped, take {n}.")


class ContentVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentVariant

    item = factory.SubFactory(ContentItemFactory)
    organization = factory.SelfAttribute("item.organization")
    language = "fr"
    title = factory.Sequence(lambda n: f"Nouvelles d'Acme {n}")
    description = "Ce qui s'est passé chez Acme cette semaine."
    suggestions = factory.LazyFunction(lambda: [{"text": "Fiers de ce que notre équipe a livré.", "network": ""}])


class ContentFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentFeed

    organization = factory.SubFactory(OrganizationFactory)
    url = factory.Sequence(lambda n: f"https://acme.example/feed-{n}.xml")


class ContentProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentProposal

    organization = factory.SubFactory(OrganizationFactory)
    url = "https://acme.example/worth-sharing"
    reason = "Customers love it."


class ShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Share

    item = factory.SubFactory(ContentItemFactory)
    organization = factory.SelfAttribute("item.organization")
    author = factory.SubFactory(UserFactory)
    commentary = "My own words about this."


class ShareVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShareVersion

    share = factory.SubFactory(ShareFactory)
    organization = factory.SelfAttribute("share.organization")
    number = 1
    commentary = factory.SelfAttribute("share.commentary")


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    share = factory.SubFactory(ShareFactory)
    organization = factory.SelfAttribute("share.organization")
    network = "linkedin"
    mode = Delivery.Mode.ASSISTED
    text = factory.SelfAttribute("share.commentary")


class ShareLinkUseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShareLinkUse

    organization = factory.SubFactory(OrganizationFactory)
    item = factory.SubFactory(ContentItemFactory, organization=factory.SelfAttribute("..organization"))
    user = factory.SubFactory(UserFactory)
    nonce = factory.Sequence(lambda n: f"nonce-{n}")


class TeamsChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamsChannel

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Channel {n}")
    webhook_url = factory.Sequence(
        lambda n: (
            f"https://prod-{n:02d}.westeurope.logic.azure.com:443/workflows/{n:032x}/triggers/manual/paths/invoke"
            "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=test"
        )
    )


class TeamsPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamsPost

    organization = factory.SubFactory(OrganizationFactory)
    channel = factory.SubFactory(TeamsChannelFactory, organization=factory.SelfAttribute("..organization"))
    item = factory.SubFactory(ContentItemFactory, organization=factory.SelfAttribute("..organization"))


class SlackInstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackInstallation

    organization = factory.SubFactory(OrganizationFactory)
    team_id = factory.Sequence(lambda n: f"T{n:08d}")
    team_name = "Acme"
    bot_user_id = "U0BOT0001"
    bot_token = factory.Sequence(lambda n: f"xoxb-test-{n}")
    scopes = "chat:write,channels:read,users:read,users:read.email"


class SlackChannelRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackChannelRoute

    organization = factory.SubFactory(OrganizationFactory)
    channel_id = factory.Sequence(lambda n: f"C{n:08d}")
    channel_name = factory.Sequence(lambda n: f"news-{n}")


class SlackPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackPost

    organization = factory.SubFactory(OrganizationFactory)
    item = factory.SubFactory(ContentItemFactory, organization=factory.SelfAttribute("..organization"))
    channel_id = factory.Sequence(lambda n: f"C{n:08d}")
    channel_name = "news"


class SlackMemberLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackMemberLink

    organization = factory.SubFactory(OrganizationFactory)
    membership = factory.SubFactory(MembershipFactory, organization=factory.SelfAttribute("..organization"))
    slack_user_id = factory.Sequence(lambda n: f"U{n:08d}")
