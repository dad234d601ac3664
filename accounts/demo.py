"""The demo phone of `make run` (issue 22, point 4): Emma's device on the local push service
(`run_webpush_emulator --demo` subscribes it with the same fixed keys), with push on for the
three push kinds, so that publishing an item, sending her share back or publishing her post
prints the push in the log."""

from __future__ import annotations

from django.conf import settings

from accounts.models import Membership, NotificationPreference, PushSubscription
from accounts.services.push import PUSH_KINDS
from integrations.webpush import emulator


def seed_demo_phone(membership: Membership) -> None:
    endpoint = f"http://127.0.0.1:{settings.WEBPUSH_EMULATOR_PORT}/push/{emulator.DEMO_TOKEN}"
    keys = emulator.demo_keys()
    PushSubscription.objects.for_org(membership.organization_id).update_or_create(
        endpoint=endpoint,
        defaults={"user_id": membership.user_id, "p256dh": keys["p256dh"], "auth": keys["auth"]},
        create_defaults={
            "organization_id": membership.organization_id,
            "user_id": membership.user_id,
            "user_agent": "Demo phone (make run)",
            **keys,
        },
    )
    for kind in PUSH_KINDS:
        NotificationPreference.objects.for_org(membership.organization_id).update_or_create(
            user_id=membership.user_id,
            kind=kind,
            defaults={"push": True},
            create_defaults={
                "organization_id": membership.organization_id,
                "user_id": membership.user_id,
                "push": True,
            },
        )
