"""Run the local HubSpot emulator HUBSPOT_ORIGIN points at in development
(integrations/hubspot/emulator.py). `--demo` registers this deployment's HubSpot app (with
our callback URL) and a portal of demo deals made from the demo organizations' latest
attributed conversions: closed-won deals carrying the conversion's code on the deal or on
their contact's first page seen, one in another currency, open ones, and two that cannot be
traced (an unknown code, no touch at all). Connect it from the CRM revenue page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from analytics.models import AnalyticsSettings, Conversion, ConversionStatus
from analytics.services import crm
from integrations.hubspot import emulator


class Command(BaseCommand):
    help = "Serve the HubSpot emulator HUBSPOT_ORIGIN points at in development."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.HUBSPOT_EMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--verbose", action="store_true")
        parser.add_argument("--demo", action="store_true", help="register our HubSpot app and demo deals")

    def handle(self, *args, host, port, verbose, demo, **options):
        store = emulator.State()
        if demo:
            self._seed(store)

        def ready(url: str) -> None:
            self.stdout.write(f"HUBSPOT EMULATOR LISTENING {url}")
            self.stdout.flush()

        emulator.serve(host, port, verbose=verbose, ready=ready, store=store)

    def _seed(self, store) -> None:
        if settings.HUBSPOT_CLIENT_ID:
            emulator.add_app(store, settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET, [crm.callback_url()])
        conversions = list(
            Conversion.objects.all_organizations()  # the demo portal serves every demo organization
            .filter(status=ConversionStatus.ATTRIBUTED)
            .order_by("-occurred_at")
            .values_list("organization_id", "tracking_code", "day")[:12]
        )
        currencies = dict(AnalyticsSettings.objects.all_organizations().values_list("organization_id", "currency"))
        won = 0
        for n, (organization_id, code, day) in enumerate(conversions):
            currency = currencies.get(organization_id, "USD")
            close = min(day + timedelta(days=3 + n % 5), timezone.localdate()).isoformat()  # won by now
            amount = Decimal(4800 + 1750 * n)
            properties = {
                "dealname": f"Demo deal {n + 1}",
                "amount": str(amount),
                "deal_currency_code": "GBP" if n == 5 else currency,
                "closedate": f"{close}T12:00:00.000Z",
                "dealstage": "closedwon" if n % 4 != 3 else "contractsent",
            }
            contact = emulator.add_contact(
                store,
                f"buyer{n + 1}@customer.example",
                {"hs_analytics_first_url": f"https://www.example.com/pricing?utm_source=linkedin&utm_content={code}"},
            )
            if n % 2 == 0:
                properties["utm_content"] = code  # the deal's own code; odd ones go through the contact
            emulator.add_deal(store, properties, [contact["id"]])
            won += properties["dealstage"] == "closedwon"
        today = timezone.localdate().isoformat()
        emulator.add_deal(
            store,
            {
                "dealname": "Unknown code",
                "amount": "990",
                "dealstage": "closedwon",
                "closedate": today,
                "utm_content": "nosuchcode",
            },
            [],
        )
        emulator.add_deal(
            store, {"dealname": "Walk-in", "amount": "1500", "dealstage": "closedwon", "closedate": today}, []
        )
        self.stdout.write(f"HubSpot emulator: demo app and {len(store.deals)} deals ({won} traced and won) registered.")
