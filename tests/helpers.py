"""Small helpers the test modules share (fixtures live in the conftest files)."""

import contextlib
import re
from smtplib import SMTPException

from django.core import mail
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


def reset_password_by_mail(client, email: str, new_password: str):
    """Ask for a reset link for `email`, follow the one mailed, set `new_password`: the response."""
    client.post(reverse("account_reset_password"), {"email": email})
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    link = re.sub(r"^https?://[^/]+", "", link)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    return client.post(set_url, {"password1": new_password, "password2": new_password})


class FailingMailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise SMTPException("421 service not available")


def thread_on_own_connection(target, results: dict, name: str):
    """A thread that runs `target` on its own database connection and puts what it returned
    (or the exception it raised, to be asserted in the test's thread) in `results[name]`."""
    import threading

    from django.db import connection

    def wrapper():
        try:
            results[name] = target()
        except Exception as exc:  # handed back to the test thread and asserted there
            results[name] = exc
        finally:
            connection.close()  # each thread had its own connection

    return threading.Thread(target=wrapper, name=name)


@contextlib.contextmanager
def held_by_another_connection(lock):
    """Run `lock()` in a transaction on another database connection and keep that transaction
    open (its locks held) for the block: a claim or a linker at work. Yields a dict whose
    "held" is what `lock()` returned (or the exception it raised) once the block has ended
    and the other transaction committed."""
    import threading

    from django.db import transaction

    holding, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            value = lock()
            holding.set()
            release.wait(10)
        return value

    results: dict = {}
    thread = thread_on_own_connection(hold, results, "held")
    thread.start()
    try:
        if not holding.wait(10):
            raise AssertionError(f"the other connection did not take its lock: {results.get('held')!r}")
        yield results
    finally:
        release.set()
        thread.join(10)


def run_at_once(*targets) -> list:
    """Run the callables at the same moment (a barrier), each in a thread on its own database
    connection (`thread_on_own_connection`); returns what each returned, in order, and raises
    here, in the test's thread, the first exception any of them raised."""
    import threading

    barrier = threading.Barrier(len(targets))
    results: dict = {}

    def after_barrier(target):
        def run():
            barrier.wait()
            return target()

        return run

    threads = [thread_on_own_connection(after_barrier(t), results, str(i)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [results[str(i)] for i in range(len(targets))]
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    return outcomes
