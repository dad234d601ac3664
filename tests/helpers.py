"""Small helpers the test modules share (fixtures live in the conftest files)."""

from smtplib import SMTPException

from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from accounts.models import Role
from tests.accounts.factories import MembershipFactory


def member(org, *roles):
    """A member of `org` with these roles (an employee when none are given)."""
    return MembershipFactory(organization=org, roles=list(roles) or [Role.EMPLOYEE])


def org_url(name: str, org, **kwargs) -> str:
    """reverse() for a page under /o/<org_slug>/."""
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


class FailingMailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise SMTPException("421 service not available")
