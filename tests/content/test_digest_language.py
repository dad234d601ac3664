"""Issue 23: the content digest is written in each recipient's language, whoever sends it: the
real Celery worker (the beat's `content.tasks.send_content_digests`) sends a French member a
French digest and an English member an English one in the same run; the daily cap's refusal
counts shares in each language's plural (French 0 and 1 are singular); and the words the
publisher keeps on a delivery are in its author's language, not the process's."""

import email
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Notification, Role, SocialConnection
from advocacy.errors import Conflict
from content import tasks
from content.digest import send_digests
from content.models import Delivery, Share
from content.services import publishing, sharing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory
from tests.conftest import wait_for
from tests.content.factories import ContentItemFactory, ContentVariantFactory, DeliveryFactory, ShareFactory

SEPARATOR = "\n" + "-" * 79 + "\n"


def _mails_to(worker, address: str) -> list[email.message.Message]:
    """The messages the worker wrote to its mail folder for `address`, parsed."""
    found = []
    for raw in worker.sent_mail().split(SEPARATOR):
        if raw.strip():
            # As bytes: an 8-bit UTF-8 body read back as str would decode as Latin-1.
            message = email.message_from_bytes((raw.strip() + "\n").encode())
            if message["To"] == address:
                found.append(message)
    return found


def _subject(message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def _text_body(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_each_member_the_digest_in_their_own_language(worker_process, settings):
    org = OrganizationFactory(slug="lingua", name="Lingua", default_language="en")
    french = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__email="claire@lingua.test")
    english = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__email="emma@lingua.test")
    french.user.language, english.user.language = "fr", "en"
    french.user.save(update_fields=["language"])
    english.user.save(update_fields=["language"])
    for title in ("Our new factory", "Quarterly results"):
        ContentItemFactory(organization=org, title=title, published_at=timezone.now() - timedelta(hours=1))

    with transaction.atomic():
        tasks.send_content_digests.delay()

    to_claire = wait_for(lambda: _mails_to(worker_process, "claire@lingua.test"), message="Claire's digest")
    to_emma = wait_for(lambda: _mails_to(worker_process, "emma@lingua.test"), message="Emma's digest")
    prefix = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
    assert [_subject(m) for m in to_claire] == [f"{prefix}2 nouvelles publications de Lingua à partager"]
    assert [_subject(m) for m in to_emma] == [f"{prefix}2 new posts to share from Lingua"]
    # The body's words the code gives the template (how often it comes) follow the same language.
    assert "une fois par semaine" in _text_body(to_claire[0])
    assert "once a week" in _text_body(to_emma[0]) and "semaine" not in _text_body(to_emma[0])

    # The in-app record of the digest is stored in the member's language too. The worker writes
    # it after the e-mail, in the same transaction: wait for its commit, not for the e-mail.
    def records():
        rows = dict(
            Notification.objects.for_org(org)
            .filter(kind=Notification.Kind.CONTENT_DIGEST)
            .values_list("user_id", "message")
        )
        return rows if len(rows) == 2 else None

    records = wait_for(records, message="both digests' in-app records")
    assert records[french.user_id] == "2 nouvelles publications à partager depuis votre dernier récapitulatif."
    assert records[english.user_id] == "2 new posts to share since your last digest."


# --- the daily cap's sentence, in each language's plural ------------------------------------------

# Tuesday 1 December 2026, 11:00 in Paris.
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

CAP_SENTENCES = {
    "en": {
        0: "You have shared 0 times today, the most Acme allows in a day. Schedule this one for another day.",
        1: "You have shared 1 time today, the most Acme allows in a day. Schedule this one for another day.",
        2: "You have shared 2 times today, the most Acme allows in a day. Schedule this one for another day.",
    },
    "fr": {
        0: "Vous avez déjà fait 0 partage aujourd’hui, le maximum autorisé par Acme en une journée. "
        "Programmez celui-ci pour un autre jour.",
        1: "Vous avez déjà fait 1 partage aujourd’hui, le maximum autorisé par Acme en une journée. "
        "Programmez celui-ci pour un autre jour.",
        2: "Vous avez déjà fait 2 partages aujourd’hui, le maximum autorisé par Acme en une journée. "
        "Programmez celui-ci pour un autre jour.",
    },
    "de": {
        0: "Sie haben heute schon 0 Beiträge geteilt, das Maximum, das Acme pro Tag erlaubt. "
        "Planen Sie diesen Beitrag für einen anderen Tag ein.",
        1: "Sie haben heute schon 1 Beitrag geteilt, das Maximum, das Acme pro Tag erlaubt. "
        "Planen Sie diesen Beitrag für einen anderen Tag ein.",
        2: "Sie haben heute schon 2 Beiträge geteilt, das Maximum, das Acme pro Tag erlaubt. "
        "Planen Sie diesen Beitrag für einen anderen Tag ein.",
    },
    "es": {
        0: "Hoy ya has compartido 0 publicaciones, el máximo que Acme permite al día. Programa esta para otro día.",
        1: "Hoy ya has compartido 1 publicación, el máximo que Acme permite al día. Programa esta para otro día.",
        2: "Hoy ya has compartido 2 publicaciones, el máximo que Acme permite al día. Programa esta para otro día.",
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("cap", [0, 1, 2])
def test_the_daily_cap_sentence_counts_in_each_languages_plural(org, employee, cap):
    org.daily_share_cap = cap
    org.save(update_fields=["daily_share_cap"])
    item = ContentItemFactory(organization=org)

    def submit():
        return sharing.submit_share(
            actor=employee,
            item_id=item.pk,
            commentary="My own words about this launch.",
            target_keys=["assisted:x"],
            confirm_repeat=True,
        )

    with time_machine.travel(TUESDAY_MORNING, tick=False):
        for _share in range(cap):
            submit()
        for language, sentences in CAP_SENTENCES.items():
            with translation.override(language), pytest.raises(Conflict) as refused:
                submit()
            assert refused.value.message == sentences[cap], language
            assert re.search(rf"\b{cap}\b", refused.value.message)


# --- the words the publisher keeps on a delivery are for its author ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The account was disconnected, so nothing was posted. Connect it again, then retry."),
        ("fr", "Le compte a été déconnecté, rien n’a donc été publié. Reconnectez-le, puis relancez."),
        (
            "de",
            "Das Konto wurde getrennt, daher wurde nichts gepostet. "
            + "Verbinden Sie es erneut und versuchen Sie es dann noch einmal.",
        ),
    ],
)
def test_the_publishers_words_on_a_delivery_are_in_its_authors_language(org, employee, language, words):
    employee.user.language = language
    employee.user.save(update_fields=["language"])
    gone = SocialConnectionFactory(
        organization=org, user=employee.user, network="x", status=SocialConnection.Status.DISCONNECTED, access_token=""
    )
    share = ShareFactory(item__organization=org, author=employee.user, status=Share.Status.APPROVED)
    delivery = DeliveryFactory(
        share=share,
        mode=Delivery.Mode.API,
        network="x",
        connection=gone,
        status=Delivery.Status.PENDING,
        approved_text_hash=publishing.text_hash(share.commentary),
        due_at=timezone.now(),
    )

    with translation.override("es"):  # whatever the process speaks
        assert publishing.publish(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == words


@pytest.mark.django_db
def test_each_member_reads_the_items_variant_in_their_language(mailoutbox):
    """An item with a French variant reaches a French member with the French title and
    summary, an English member with its own; an item without one keeps its own words."""
    org = OrganizationFactory(slug="lingua", name="Lingua", default_language="en")
    french = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__email="claire@lingua.test")
    MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__email="emma@lingua.test")
    french.user.language = "fr"
    french.user.save(update_fields=["language"])
    yesterday = timezone.now() - timedelta(hours=1)
    plant = ContentItemFactory(organization=org, title="Our new plant", language="en", published_at=yesterday)
    ContentItemFactory(organization=org, title="Quarterly results", language="en", published_at=yesterday)
    ContentVariantFactory(item=plant, language="fr", title="Notre nouvelle usine", description="Elle tourne au soleil.")

    assert send_digests() == 2
    bodies = {m.to[0]: (m.body, m.alternatives[0][0]) for m in mailoutbox}
    text, html = bodies["claire@lingua.test"]
    assert "Notre nouvelle usine" in text and "Our new plant" not in text
    assert "Elle tourne au soleil." in html and "Quarterly results" in text
    text, html = bodies["emma@lingua.test"]
    assert "Our new plant" in text and "Notre nouvelle usine" not in text and "Quarterly results" in text
