"""Notifications speak the recipient's language (issue 23): notify() puts a `later(...)` text
into words inside for_recipient(user, organization), once, for the stored row, the e-mail
(sent after commit, as in production) and the push; old callers' plain str are kept."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from accounts.models import Notification, Role, SocialConnection
from accounts.services import notifications as services
from accounts.services import push
from advocacy.languages import later
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
RECONNECT = gettext_noop("Your %(network)s account %(account)s needs reconnecting.")


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", default_language="en")


def member(org, language):
    membership = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    membership.user.language = language
    membership.user.save(update_fields=["language"])
    return membership


def tell(membership):
    return services.notify(
        organization_id=membership.organization_id,
        user_id=membership.user_id,
        kind=Kind.CONNECTION_NEEDS_RECONNECT,
        message=later(RECONNECT, network="LinkedIn", account="Ada"),
        url="/o/acme/connections/",
    )


def test_a_french_member_reads_french_and_an_english_member_english(
    org, mailoutbox, settings, django_capture_on_commit_callbacks
):
    french, english = member(org, "fr"), member(org, "")
    # The sending process's language plays no part.
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        stored_fr = tell(french)
        stored_en = tell(english)
    assert stored_fr.message == "Votre compte LinkedIn Ada doit être reconnecté."
    assert stored_en.message == "Your LinkedIn account Ada needs reconnecting."
    by_recipient = {mail.to[0]: mail for mail in mailoutbox}
    mail_fr, mail_en = by_recipient[french.user.email], by_recipient[english.user.email]
    assert (
        mail_fr.subject
        == f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Acme: Votre compte LinkedIn Ada doit être reconnecté."
    )
    assert "Votre compte LinkedIn Ada doit être reconnecté." in mail_fr.body
    assert "needs reconnecting" not in mail_fr.body + mail_fr.subject
    assert (
        mail_en.subject == f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Acme: Your LinkedIn account Ada needs reconnecting."
    )
    assert "Your LinkedIn account Ada needs reconnecting." in mail_en.body


def test_the_organization_default_speaks_for_members_without_their_own(
    org, mailoutbox, django_capture_on_commit_callbacks
):
    org.default_language = "fr"
    org.save(update_fields=["default_language"])
    with django_capture_on_commit_callbacks(execute=True):
        assert tell(member(org, "")).message == "Votre compte LinkedIn Ada doit être reconnecté."
        assert tell(member(org, "en")).message == "Your LinkedIn account Ada needs reconnecting."


def test_needs_reconnect_is_stored_in_the_members_language_and_not_repeated(org, django_capture_on_commit_callbacks):
    french = member(org, "fr")
    conn = SocialConnectionFactory(
        organization=org, user=french.user, name="Ada", status=SocialConnection.Status.NEEDS_RECONNECT, status_reason=""
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify_needs_reconnect(conn)
        assert services.notify_needs_reconnect(conn) is None
    assert first.message.startswith("Votre compte ") and first.message.endswith("doit être reconnecté.")


def test_a_plain_text_is_kept_as_it_is(org, django_capture_on_commit_callbacks):
    french = member(org, "fr")
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.notify(
            organization_id=org.pk, user_id=french.user_id, kind=Kind.SHARE_APPROVED, message="Already in words."
        )
    assert stored.message == "Already in words."


def test_putting_a_later_text_into_words_costs_one_query(org, django_assert_num_queries):
    french = member(org, "fr")
    with django_assert_num_queries(1):
        words = services.in_words(
            later(RECONNECT, network="X", account="ada"), organization_id=org.pk, user_id=french.user_id
        )
    assert words == "Votre compte X ada doit être reconnecté."


def test_the_push_title_is_in_the_recipients_language(org):
    french = member(org, "fr")
    payload = push.push_payload(
        organization_id=org.pk, kind=Kind.SHARE_PUBLISHED, message="…", url="/o/acme/", user_id=french.user_id
    )
    assert payload["title"] == "Votre publication est en ligne · Acme"
    english = push.push_payload(organization_id=org.pk, kind=Kind.SHARE_PUBLISHED, message="…", url="/o/acme/")
    assert english["title"] == "Your post is live · Acme"
