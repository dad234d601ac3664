"""Run the local Microsoft Teams workflow-webhook emulator (integrations/teams/emulator.py).
`--demo` registers the demo channel's workflow, the one seed_demo points the demo
organization's Teams channel at. Cards posted to it are listed on the emulator's home page."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.teams import emulator


class Command(BaseCommand):
    help = "Serve the Teams workflow-webhook emulator the demo organization's Teams channel posts to."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.TEAMS_EMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--verbose", action="store_true")
        parser.add_argument("--demo", action="store_true", help="register the demo channel's workflow")

    def handle(self, *args, host, port, verbose, demo, **options):
        store = emulator.State()
        if demo:
            emulator.add_workflow(
                store, workflow_id=emulator.DEMO_WORKFLOW_ID, sig=emulator.DEMO_SIG, channel="Acme › General"
            )

        def ready(url: str) -> None:
            self.stdout.write(f"TEAMS EMULATOR LISTENING {url} (cards posted: {url}/)")
            self.stdout.flush()

        emulator.serve(host, port, verbose=verbose, ready=ready, store=store)
