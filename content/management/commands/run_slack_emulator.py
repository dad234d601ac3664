"""Run the local Slack emulator SLACK_ORIGIN points at in development
(integrations/slack/emulator.py). `--demo` registers this deployment's Slack app (our OAuth
callback and interactivity request URL, our signing secret), a workspace with #general,
#marketing-news and #random (the app not invited there), and one Slack user per demo person
of Acme with the same, verified, e-mail address. Open the emulator's page to be one of them
in Slack: click Share on a message, fill in the modal, submit."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Membership
from content.services import slack
from integrations.slack import emulator


class Command(BaseCommand):
    help = "Serve the Slack emulator SLACK_ORIGIN points at in development."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SLACK_EMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--verbose", action="store_true")
        parser.add_argument("--demo", action="store_true", help="register our Slack app, channels and demo people")

    def handle(self, *args, host, port, verbose, demo, **options):
        store = emulator.State()
        if demo:
            self._seed(store)

        def ready(url: str) -> None:
            self.stdout.write(f"SLACK EMULATOR LISTENING {url}")
            self.stdout.flush()

        emulator.serve(host, port, verbose=verbose, ready=ready, store=store)

    def _seed(self, store) -> None:
        if settings.SLACK_CLIENT_ID:
            emulator.add_app(
                store,
                settings.SLACK_CLIENT_ID,
                settings.SLACK_CLIENT_SECRET,
                settings.SLACK_SIGNING_SECRET,
                [slack.callback_url()],
                slack.interactivity_url(),
            )
        emulator.seed_workspace(store)
        people = (
            Membership.objects.all_organizations()  # the demo workspace is Acme's
            .filter(organization__slug="acme", is_active=True)
            .select_related("user")
            .order_by("pk")
        )
        for membership in people:
            emulator.add_user(store, membership.user.name or membership.user.email, membership.user.email)
        self.stdout.write(f"Slack emulator: demo app, {len(store.channels)} channels, {len(store.users)} people.")
