"""Run the local emulator of LinkedIn, X and Facebook (see networks/emulator/__init__.py)."""

import json
import threading
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from networks.emulator.server import serve

# Remote people the demo users can log in as on the emulator's consent pages.
DEMO_ACCOUNTS = [
    {"network": "linkedin", "name": "Emma Employee", "email": "employee@acme.test"},
    {"network": "x", "name": "Emma Employee", "username": "emma_acme"},
    {
        "network": "facebook",
        "name": "Emma Employee",
        "pages": [
            {"name": "Acme Paris", "tasks": ["CREATE_CONTENT", "MODERATE"]},
            {"name": "Acme Fans", "tasks": ["ANALYZE"]},
        ],
    },
    {"network": "linkedin", "name": "Mark Marketer", "email": "marketer@acme.test"},
    {"network": "x", "name": "Mark Marketer", "username": "mark_acme"},
]


class Command(BaseCommand):
    help = "Serve the LinkedIn / X / Facebook emulator the *_ORIGIN settings point at in development."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.NETWORK_EMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="register this deployment's apps (NETWORK_APPS, with our callback URLs) and demo people",
        )

    def handle(self, *args, host, port, verbose, demo, **options):
        def ready(url: str) -> None:
            self.stdout.write(f"EMULATOR LISTENING {url}")
            self.stdout.flush()
            if demo:
                # The socket listens already; requests wait in its backlog until serving starts.
                threading.Thread(target=self._seed, args=(url,), daemon=True).start()

        serve(host, port, verbose=verbose, ready=ready)

    def _seed(self, url: str) -> None:
        def post(name: str, body: dict) -> None:
            request = urllib.request.Request(  # noqa: S310 (our own local server)
                f"{url}/_emulator/{name}",
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (our own local server)
                pass

        for network, (client_id, client_secret) in settings.NETWORK_APPS.items():
            if client_id:
                callback = settings.SITE_URL + reverse("connection_callback", kwargs={"network": network})
                post(
                    "apps",
                    {
                        "network": network,
                        "client_id": client_id,
                        "client_secret": client_secret,
                        "redirect_uris": [callback],
                        "partner": network == "linkedin",
                        **(
                            {"consumer_key": settings.X_API_KEY, "consumer_secret": settings.X_API_SECRET}
                            if network == "x"
                            else {}
                        ),
                    },
                )
        for account in DEMO_ACCOUNTS:
            post("accounts", account)
        self.stdout.write("Emulator: demo apps and people registered (pick one on the consent page).")
