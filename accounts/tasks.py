"""Celery wrappers: take ids, call a service."""

from celery import shared_task

from accounts import services


@shared_task(name="accounts.tasks.run_invitation_import")
def run_invitation_import(import_id: int) -> None:
    services.run_invitation_import(import_id=import_id)


@shared_task(name="accounts.tasks.expire_invitations")
def expire_invitations() -> int:
    return services.expire_invitations()
