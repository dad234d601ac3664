import factory
from django.utils import timezone

from analytics.models import DailyRollup, DeliveryMetrics, MetricSnapshot
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
