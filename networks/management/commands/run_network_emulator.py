"""Run the local emulator of LinkedIn, X and Facebook (see networks/emulator/__init__.py)."""

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from networks.emulator.server import serve
from networks.emulator.state import State

# Remote people the demo users can log in as on the emulator's consent pages. Their ids are
# fixed, as a network's are: connecting again after the emulator lost its memory finds the
# same connection (a new id would make a second one, and the old one's shares would keep
# asking to reconnect).
DEMO_ACCOUNTS = [
    {"network": "linkedin", "id": "EmmaDemo01", "name": "Emma Employee", "email": "employee@acme.test"},
    {"network": "x", "id": "1700000000000000001", "name": "Emma Employee", "username": "emma_acme"},
    {
        "network": "facebook",
        "id": "170000000000001",
        "name": "Emma Employee",
        "pages": [
            {"id": "170000000000101", "name": "Acme Paris", "tasks": ["CREATE_CONTENT", "MODERATE"]},
            {"id": "170000000000102", "name": "Acme Fans", "tasks": ["ANALYZE"]},
        ],
    },
    {"network": "linkedin", "id": "MarkDemo01", "name": "Mark Marketer", "email": "marketer@acme.test"},
    {"network": "x", "id": "1700000000000000002", "name": "Mark Marketer", "username": "mark_acme"},
]
# How often a changed memory is written to --state-file (and once more when stopped).
SAVE_EVERY = 2.0


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
        parser.add_argument(
            "--state-file",
            type=Path,
            help="keep the emulator's memory (accounts, tokens, posts) in this file across restarts",
        )

    def handle(self, *args, host, port, verbose, demo, state_file, **options):
        store = State()
        if state_file and state_file.exists():
            store.load(state_file.read_bytes())

        def ready(url: str) -> None:
            self.stdout.write(f"EMULATOR LISTENING {url}")
            self.stdout.flush()
            if demo:
                # The socket listens already; requests wait in its backlog until serving starts.
                threading.Thread(target=self._seed, args=(url,), daemon=True).start()
            if state_file:
                threading.Thread(target=self._keep, args=(store, state_file), daemon=True).start()

        if state_file:  # stopped by `make run` (honcho) or a test with SIGTERM: stop serving, then save
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            serve(host, port, verbose=verbose, ready=ready, store=store)
        finally:
            if state_file:
                _save(store.dump(), state_file)

    def _keep(self, store: State, path: Path) -> None:
        saved = None
        while True:
            time.sleep(SAVE_EVERY)
            data = store.dump()
            if data != saved:
                _save(data, path)
                saved = data

    def _seed(self, url: str) -> None:
        def post(name: str, body: dict) -> None:
            request = urllib.request.Request(  # noqa: S310 (our own local server)
                f"{url}/_emulator/{name}",
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (our own local server)
                    pass
            except urllib.error.HTTPError as exc:
                if exc.code != 409:  # 409: known already (a memory read from --state-file)
                    raise

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


def _save(data: bytes, path: Path) -> None:
    """Write whole or not at all: a stop in the middle leaves the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
