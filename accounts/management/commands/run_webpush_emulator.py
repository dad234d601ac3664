"""Run the local push service of development (integrations/webpush/emulator.py), the one
WEB_PUSH_EXTRA_ORIGINS lets the product post to. `--demo` subscribes the demo phone with
this deployment's VAPID key (seed_demo saved it as Emma's device, employee@acme.test), and
every push it receives is printed, decrypted, in the log of `make run`."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import push
from integrations.webpush import emulator


class Command(BaseCommand):
    help = "Serve the local Web Push service of development."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.WEBPUSH_EMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--verbose", action="store_true")
        parser.add_argument("--demo", action="store_true", help="subscribe the demo phone; print every push")

    def handle(self, *args, host, port, verbose, demo, **options):
        store = emulator.State(announce=demo)
        if demo:
            emulator.add_demo_phone(store, push.application_server_key())
        httpd = emulator.make_server(host, port, verbose=verbose, store=store)
        self.stdout.write(f"WEBPUSH EMULATOR LISTENING {httpd.store.origin}")
        self.stdout.flush()
        try:
            httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
