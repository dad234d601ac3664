"""Celery wrappers: take ids, call a service."""

from celery import shared_task

from accounts import services
from accounts.services import connections, push
from integrations.webpush.errors import PushUnavailable
from networks.errors import RateLimited, TransientFailure


@shared_task(name="accounts.tasks.send_notification_emails")
def send_notification_emails(emails: list[dict]) -> int:
    """E-mail notifications (`notify_many(..., email_by_task=True)`: the publisher's notices,
    one message for a batch's)."""
    from accounts.services.notifications import send_notification_emails as send

    return send(emails)


@shared_task(name="accounts.tasks.run_invitation_import")
def run_invitation_import(import_id: int) -> None:
    services.run_invitation_import(import_id=import_id)


@shared_task(name="accounts.tasks.expire_invitations")
def expire_invitations() -> int:
    return services.expire_invitations()


@shared_task(
    name="accounts.tasks.refresh_connection",
    autoretry_for=(TransientFailure, RateLimited),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
def refresh_connection(connection_id: int, organization_id: int) -> None:
    connections.refresh_connection(connection_id=connection_id, organization_id=organization_id)


@shared_task(name="accounts.tasks.refresh_expiring_connections")
def refresh_expiring_connections() -> int:
    due = list(connections.connections_due_for_refresh())
    for connection_id, organization_id in due:
        refresh_connection.delay(connection_id, organization_id)
    return len(due)


@shared_task(name="accounts.tasks.warn_expiring_connections")
def warn_expiring_connections() -> int:
    return connections.warn_expiring_connections()


@shared_task(
    name="accounts.tasks.withdraw_accounts_of_suspended_member",
    bind=True,
    autoretry_for=(TransientFailure, RateLimited),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
def withdraw_accounts_of_suspended_member(self, organization_id: int, user_id: int) -> dict[int, str]:
    # The last try forgets the tokens even where the network could not be reached.
    return connections.withdraw_accounts_of_suspended_member(
        organization_id=organization_id, user_id=user_id, last_try=self.request.retries >= self.max_retries
    )


@shared_task(name="accounts.tasks.withdraw_accounts_of_suspended_members")
def withdraw_accounts_of_suspended_members() -> int:
    """The sweep (beat): one withdrawal task per suspended member still holding tokens."""
    due = connections.suspended_members_holding_tokens()
    for organization_id, user_id in due:
        withdraw_accounts_of_suspended_member.delay(organization_id, user_id)
    return len(due)


# --- Web Push (accounts.services.push): a fan-out per notification, one delivery per device ---


@shared_task(name="accounts.tasks.push_notification")
def push_notification(organization_id: int, user_id: int, kind: str, message: str, url: str) -> int:
    # The message was put into the member's words by notify(); the title is, here.
    payload = push.push_payload(organization_id=organization_id, kind=kind, message=message, url=url, user_id=user_id)
    targets = push.push_targets(organization_id=organization_id, user_ids=[user_id], kind=kind)
    for subscription_id in targets:
        deliver_push.delay(subscription_id, organization_id, payload)
    return len(targets)


@shared_task(name="accounts.tasks.deliver_push", bind=True, max_retries=4)
def deliver_push(self, subscription_id: int, organization_id: int, payload: dict) -> str:
    try:
        return push.deliver_push(subscription_id=subscription_id, organization_id=organization_id, payload=payload)
    except PushUnavailable as exc:
        # The push service's Retry-After when it gave one, else 30 s doubling; after the last
        # try the error is raised (and logged by the worker): the push is dropped.
        countdown = exc.retry_after if exc.retry_after is not None else 30 * 2**self.request.retries
        raise self.retry(exc=exc, countdown=min(countdown, 3600)) from None
