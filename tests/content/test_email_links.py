"""The digest's one-click share links (issue 22, point 3): signed per member and item,
expiring, single-use; a GET shows and changes nothing; the one POST shares through the
composer's service and review path. And one-click unsubscribe (RFC 8058) per kind."""

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, NotificationPreference, Role
from accounts.services import notifications
from accounts.services.unsubscribe import unsubscribe_url
from advocacy.errors import Conflict
from compliance.models import Policy, ReviewTask
from content.digest import send_digests
from content.models import Share, ShareLinkUse
from content.services import email_links
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory
from tests.content.factories import ContentItemFactory, SuggestionFactory
from tests.helpers import run_at_once

pytestmark = pytest.mark.django_db

DIGEST = Notification.Kind.CONTENT_DIGEST


@pytest.fixture
def org(settings):
    settings.NETWORK_APPS = {"linkedin": ("li", "s"), "x": ("x", "s"), "facebook": ("", "")}
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def emma(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])


@pytest.fixture
def x_account(emma):
    return SocialConnectionFactory(organization=emma.organization, user=emma.user, network="x", refresh_token="r")


@pytest.fixture
def item(org):
    launched = ContentItemFactory(
        organization=org, title="Our spring launch", published_at=timezone.now() - timedelta(hours=1)
    )
    SuggestionFactory(item=launched, text="Proud of what the team shipped this spring.")
    return launched


def link_for(membership, item) -> str:
    return email_links.share_link_url(
        org_slug=membership.organization.slug,
        organization_id=membership.organization_id,
        user_id=membership.user_id,
        item_id=item.pk,
    )


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def shares(org):
    return Share.objects.for_org(org)


def press_share(client, url, **fields):
    """What the confirmation page's one button posts: the form as the GET rendered it."""
    page = client.get(url).content.decode()
    data = {"when": "now", "commentary": re.search(r"<textarea[^>]*>\s*(.*?)</textarea>", page, re.S).group(1)}
    data["targets"] = re.findall(r'name="targets" value="([^"]+)" checked', page)
    data.update(re.findall(r'<input type="hidden" name="(suggestion|submit_token)" value="([^"]*)"', page))
    data.update(fields)
    return client.post(url, data)


# --- the digest carries the links -------------------------------------------------------------


def test_the_digest_has_a_signed_share_link_per_item_and_an_html_part(org, emma, item, mailoutbox):
    second = ContentItemFactory(organization=org, title="Second story", published_at=timezone.now())
    assert send_digests() == 1
    (mail,) = mailoutbox
    links = re.findall(r"Share it: (\S+)", mail.body)
    assert len(links) == 2 and len(set(links)) == 2
    read = [email_links.read_share_link(path_of(url).rstrip("/").rsplit("/", 1)[1]) for url in links]
    assert {link.item_id for link in read} == {item.pk, second.pk}
    assert {(link.organization_id, link.user_id) for link in read} == {(org.pk, emma.user_id)}
    (html, mime) = mail.alternatives[0]
    assert mime == "text/html" and html.count("data-share-link") == 2
    for url in links:
        assert url.replace("&", "&amp;") in html or url in html


# --- the confirmation page ----------------------------------------------------------------------


def test_the_page_is_prefilled_and_a_get_changes_nothing(client, org, emma, item, x_account):
    client.force_login(emma.user)
    url = path_of(link_for(emma, item))
    for _ in range(2):
        page = client.get(url)
        assert page.status_code == 200
    body = page.content.decode()
    assert "Proud of what the team shipped this spring." in body
    assert f'name="targets" value="connection:{x_account.pk}" checked' in body
    # One button in the page's content (the foot's language switcher is not part of it).
    assert body.split('data-testid="email-share"')[1].split("<footer")[0].count('type="submit"') == 1
    assert not shares(org).exists() and not ShareLinkUse.objects.for_org(org).exists()


def test_the_page_has_a_fixed_number_of_queries(client, org, emma, item, x_account, django_assert_max_num_queries):
    client.force_login(emma.user)
    url = path_of(link_for(emma, item))
    client.get(url)
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200


def test_the_post_shares_through_review_like_the_composer(client, org, emma, item, x_account):
    Policy.objects.for_org(org).update_or_create(
        organization=org, defaults={"review_mode": Policy.ReviewMode.ALL, "auto_approve_suggestions": False}
    )
    client.force_login(emma.user)
    url = path_of(link_for(emma, item))
    response = press_share(client, url)
    assert response.status_code == 302 and response["Location"] == reverse("content:my_shares", args=["acme"])
    share = shares(org).get()
    assert share.item_id == item.pk and share.author_id == emma.user_id
    assert share.status == Share.Status.IN_REVIEW
    assert share.commentary == "Proud of what the team shipped this spring."
    assert [d.connection_id for d in share.deliveries.all()] == [x_account.pk]
    assert ReviewTask.objects.for_org(org).filter(share=share).exists()
    assert ShareLinkUse.objects.for_org(org).get().share_id == share.pk


def test_a_link_shares_once(client, org, emma, item, x_account):
    client.force_login(emma.user)
    url = path_of(link_for(emma, item))
    page = client.get(url).content.decode()
    assert press_share(client, url).status_code == 302
    again = client.get(url)
    assert again.status_code == 409 and "already used" in again.content.decode()
    # The page as it was before (opened in another tab), posted again: refused, nothing new.
    token = re.search(r'name="submit_token" value="([^"]*)"', page).group(1)
    second = client.post(
        url, {"when": "now", "commentary": "Other words.", "targets": ["assisted:x"], "submit_token": token}
    )
    assert second.status_code == 409
    assert shares(org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_link_pressed_twice_at_the_same_moment_shares_once(org, emma, item):
    link = email_links.read_share_link(path_of(link_for(emma, item)).rstrip("/").rsplit("/", 1)[1])

    def press():
        try:
            email_links.share_from_link(
                actor=emma, link=link, commentary="Proud of the team.", target_keys=["assisted:x"]
            )
        except Conflict as exc:
            return exc.message  # run_at_once raises an exception returned
        return "shared"

    refused, shared = sorted(run_at_once(press, press))
    assert shared == "shared" and refused.startswith("This share link was already used")
    assert shares(org).count() == 1 and ShareLinkUse.objects.for_org(org).count() == 1


def test_a_refused_share_leaves_the_link_unused(client, org, emma, item, x_account):
    client.force_login(emma.user)
    url = path_of(link_for(emma, item))
    refused = client.post(url, {"when": "now", "commentary": "   ", "targets": [f"connection:{x_account.pk}"]})
    assert refused.status_code == 200 and "Write a few words" in refused.content.decode()
    assert not ShareLinkUse.objects.for_org(org).exists()
    assert press_share(client, url).status_code == 302


def test_an_expired_link_is_refused_in_words(client, org, emma, item, x_account, settings):
    settings.EMAIL_SHARE_LINK_MAX_AGE = 7 * 24 * 3600
    client.force_login(emma.user)
    url = path_of(link_for(emma, item))
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 410
            assert "This share link has expired" in response.content.decode()
    assert not shares(org).exists()


def test_a_tampered_link_is_refused_in_words(client, org, emma, item, x_account):
    client.force_login(emma.user)
    token = path_of(link_for(emma, item)).rstrip("/").rsplit("/", 1)[1]
    # Another item's id under the same signature.
    forged = signing.dumps({"o": org.pk, "u": emma.user_id, "i": item.pk + 1, "n": "x"}, salt="another salt")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged):
        url = reverse("content:email_share", kwargs={"org_slug": "acme", "token": bad})
        response = client.post(url, {"when": "now", "commentary": "Hi", "targets": ["assisted:x"]})
        assert response.status_code == 400 and "This share link is not valid" in response.content.decode()
    assert not shares(org).exists()


def test_another_members_link_is_refused(client, org, emma, item, x_account):
    colleague = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    client.force_login(colleague.user)
    url = path_of(link_for(emma, item))
    for method in (client.get, client.post):
        response = method(url, {"when": "now", "commentary": "Hi", "targets": ["assisted:x"]})
        assert response.status_code == 403 and "sent to another member" in response.content.decode()
    assert not shares(org).exists()


def test_another_organizations_link_is_404(client, org, emma, item):
    other = MembershipFactory(organization=OrganizationFactory(slug="globex"), roles=[Role.EMPLOYEE])
    # The other organization's member, with their own valid link, at Acme's address: not a member.
    client.force_login(other.user)
    assert client.get(path_of(link_for(emma, item))).status_code == 404
    # A member of both, opening Acme's link under Globex's address: the link is not Globex's.
    MembershipFactory(organization=other.organization, user=emma.user, roles=[Role.EMPLOYEE])
    client.force_login(emma.user)
    token = path_of(link_for(emma, item)).rstrip("/").rsplit("/", 1)[1]
    url = reverse("content:email_share", kwargs={"org_slug": "globex", "token": token})
    assert client.get(url).status_code == 404
    assert client.post(url, {"when": "now", "commentary": "Hi", "targets": ["assisted:x"]}).status_code == 404
    assert not Share.objects.all_organizations().exists()


def test_signing_in_is_asked_first(client, emma, item):
    response = client.get(path_of(link_for(emma, item)))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- one-click unsubscribe -------------------------------------------------------------------------


def email_pref(membership, kind):
    return notifications.preference_for(
        organization_id=membership.organization_id, user_id=membership.user_id, kind=kind
    )


KINDS = (Notification.Kind.SHARE_APPROVED, DIGEST)


def test_every_notification_and_digest_mail_has_the_rfc_8058_headers(
    org, emma, item, mailoutbox, django_capture_on_commit_callbacks
):
    # The link is signed with its second (signing.dumps): the clock stands still, so the link
    # made here is the one the mails carry, not one a second later.
    with time_machine.travel(timezone.now(), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            notifications.notify(
                organization_id=org.pk, user_id=emma.user_id, kind=Notification.Kind.SHARE_APPROVED, message="Approved."
            )
        send_digests()
        links = {kind: unsubscribe_url(organization_id=org.pk, user_id=emma.user_id, kind=kind) for kind in KINDS}
    notice, digest = mailoutbox
    for mail, kind in ((notice, Notification.Kind.SHARE_APPROVED), (digest, DIGEST)):
        headers = message_from_bytes(mail.message().as_bytes(), policy=policy.default)
        expected = links[kind]
        assert headers["List-Unsubscribe"].strip() == f"<{expected}>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert expected in mail.body


def test_one_click_post_turns_off_exactly_that_kind_without_a_login(client, org, emma):
    url = path_of(unsubscribe_url(organization_id=org.pk, user_id=emma.user_id, kind=DIGEST))
    response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "Unsubscribed" in response.content.decode()
    assert email_pref(emma, DIGEST).email is False
    assert email_pref(emma, DIGEST).in_app is True
    for other in set(Notification.Kind.values) - {DIGEST}:
        assert email_pref(emma, other).email is True
    assert client.post(url).status_code == 200  # again: harmless
    assert NotificationPreference.objects.for_org(org).filter(user_id=emma.user_id).count() == 1


def test_the_unsubscribed_digest_is_no_longer_sent(client, org, emma, item, mailoutbox):
    client.post(path_of(unsubscribe_url(organization_id=org.pk, user_id=emma.user_id, kind=DIGEST)))
    assert send_digests() == 0 and not mailoutbox


def test_unsubscribe_get_shows_one_button_and_changes_nothing(client, org, emma):
    url = path_of(unsubscribe_url(organization_id=org.pk, user_id=emma.user_id, kind=DIGEST))
    body = client.get(url).content.decode()
    content = body.split('data-testid="unsubscribe"')[1].split("<footer")[0]  # not the language switcher
    assert "Unsubscribe?" in body and content.count('type="submit"') == 1
    assert not NotificationPreference.objects.for_org(org).exists()


def test_a_tampered_unsubscribe_link_changes_nothing(client, org, emma):
    url = path_of(unsubscribe_url(organization_id=org.pk, user_id=emma.user_id, kind=DIGEST))
    response = client.post(url[:-3] + "xx/")
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert not NotificationPreference.objects.for_org(org).exists()
