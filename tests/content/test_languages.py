"""Content in several languages (issue 23, item 4): an item's language and its variants, what
the library says is missing, the feed and the composer in the reader's language (with a label
when it falls back), the share's language, per-language lexicon terms, analytics by language."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from advocacy.errors import ValidationFailed
from compliance import engine
from compliance.engine import TermRule, compile_policy, screen_text
from compliance.models import AuditEntry, LexiconTerm
from compliance.selectors.audit_trail import SENTENCES
from compliance.services import policy as policy_services
from content.models import ContentVariant, Share
from content.selectors import languages
from content.services import library, sharing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory
from tests.content.factories import ContentItemFactory, ContentVariantFactory, SuggestionFactory

pytestmark = pytest.mark.django_db

FRENCH_TITLE = "Acme ouvre une usine solaire à Lyon"
FRENCH_WORDS = "Fier de notre nouvelle usine solaire à Lyon."


@pytest.fixture
def org(settings):
    settings.NETWORK_APPS = {"linkedin": ("li", "s"), "x": ("x", "s"), "facebook": ("", "")}
    return OrganizationFactory(slug="acme", default_language="en", timezone="Europe/Paris")


@pytest.fixture
def marketer(org):
    return MembershipFactory(organization=org, roles=[Role.MARKETER])


@pytest.fixture
def camille(org):
    """A French employee."""
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__language="fr")


@pytest.fixture
def jonas(org):
    """A German employee."""
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__language="de")


@pytest.fixture
def item(org):
    item = ContentItemFactory(organization=org, title="Acme opens a solar plant in Lyon", language="en")
    SuggestionFactory(item=item, text="Proud of our new solar plant in Lyon.", position=0)
    return item


@pytest.fixture
def french(item, marketer):
    return library.set_variant(
        actor=marketer, item=item, language="fr", title=FRENCH_TITLE, description="L'usine tourne au soleil.",
        suggestions=[FRENCH_WORDS],
    )  # fmt: skip


# --- the services ---------------------------------------------------------------------------


def test_an_item_is_written_in_its_organizations_default_language(org, marketer):
    org.default_language = "de"
    org.save()
    item = library.create_item(actor=marketer, url="https://acme.example/a", title="Neu", fetch_preview=False)
    assert item.language == "de"


def test_a_variant_is_added_edited_and_removed_and_each_is_audited(item, marketer, french):
    assert french.suggestions == [{"text": FRENCH_WORDS, "network": ""}]
    library.set_variant(actor=marketer, item=item, language="fr", title="Acme ouvre une usine à Lyon")
    assert ContentVariant.objects.for_org(item.organization).get(item=item).title == "Acme ouvre une usine à Lyon"
    library.remove_variant(actor=marketer, variant=ContentVariant.objects.for_org(item.organization).get(item=item))
    assert not ContentVariant.objects.for_org(item.organization).exists()
    actions = list(
        AuditEntry.objects.for_org(item.organization)
        .filter(target_id=str(item.pk), action__startswith="content_item.variant")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["content_item.variant_added", "content_item.variant_updated", "content_item.variant_removed"]
    assert all(action in SENTENCES for action in actions)


@pytest.mark.parametrize(
    "language, title, field",
    [("en", "Same", "language"), ("tr", "Yeni", "language"), ("fr", "   ", "title")],
)
def test_a_variant_needs_another_shipped_language_and_a_title(item, marketer, language, title, field):
    with pytest.raises(ValidationFailed) as refused:
        library.set_variant(actor=marketer, item=item, language=language, title=title)
    assert field in refused.value.fields
    assert not ContentVariant.objects.for_org(item.organization).exists()


def test_a_variants_suggestions_are_checked_like_the_items(item, marketer):
    with pytest.raises(ValidationFailed):
        library.set_variant(actor=marketer, item=item, language="fr", title="T", suggestions=[("Texte", "myspace")])


def test_only_marketers_write_variants(item, camille):
    with pytest.raises(PermissionDenied):
        library.set_variant(actor=camille, item=item, language="fr", title="Non")


def test_the_item_cannot_take_a_language_it_has_a_variant_in(item, marketer, french):
    with pytest.raises(ValidationFailed):
        library.set_item_language(actor=marketer, item=item, language="fr")
    library.set_item_language(actor=marketer, item=item, language="de")
    item.refresh_from_db()
    assert item.language == "de"


# --- what is missing ------------------------------------------------------------------------


def test_missing_languages_are_those_members_read_that_the_item_lacks(org, item, french, camille, jonas):
    MembershipFactory(organization=org, roles=[Role.EMPLOYEE])  # follows the org: English
    MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__language="es", is_active=False)  # gone
    other = ContentItemFactory(organization=org, language="fr")
    found = {i.pk: i for i in languages.with_missing_languages(org, [item, other])}
    assert found[item.pk].missing_languages == ["de"]
    assert found[item.pk].variant_languages == ["fr"]
    assert found[other.pk].missing_languages == ["en", "de"]


def test_the_library_list_shows_missing_languages_in_a_fixed_number_of_queries(client, org, marketer, item, jonas):
    client.force_login(marketer.user)
    url = reverse("content:library", kwargs={"org_slug": "acme"})
    with CaptureQueriesContext(db) as small:
        response = client.get(url)
    assert 'data-testid="missing-languages"' in response.text
    for n in range(6):
        more = ContentItemFactory(organization=org)
        ContentVariantFactory(item=more, language="fr", title=f"Article {n}")
    with CaptureQueriesContext(db) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


def test_the_item_page_edits_variants(client, org, marketer, item):
    client.force_login(marketer.user)
    page = reverse("content:library_item", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    assert 'data-testid="item-languages-panel"' in client.get(page).text
    url = reverse("content:library_item_variant", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    form = client.get(url + "?language=de")
    assert form.status_code == 200 and "Proud of our new solar plant in Lyon." in form.text
    response = client.post(
        url,
        {"language": "de", "title": "Acme eröffnet ein Solarwerk", "description": "", "suggestion_0": "Stolz!"},
    )
    assert response.status_code == 302
    variant = ContentVariant.objects.for_org(org).get(item=item, language="de")
    assert variant.suggestions == [{"text": "Stolz!", "network": ""}]
    refused = client.post(url, {"language": "de", "title": "", "suggestion_0": "Stolz!"})
    assert refused.status_code == 200  # the form again, with what was typed
    remove = reverse("content:library_variant_remove", kwargs={"org_slug": "acme", "content_variant_id": variant.pk})
    assert client.post(remove).status_code == 302
    assert not ContentVariant.objects.for_org(org).exists()


# --- the feed and the composer ----------------------------------------------------------------


def feed_url() -> str:
    return reverse("content:feed", kwargs={"org_slug": "acme"})


def test_the_feed_serves_the_french_variant_to_a_french_employee(client, item, french, camille):
    client.force_login(camille.user)
    page = client.get(feed_url()).text
    assert FRENCH_TITLE in page
    assert FRENCH_WORDS in page
    assert item.title not in page
    assert 'data-testid="language-note"' not in page


def test_the_feed_falls_back_to_the_items_language_with_a_label_for_a_german_employee(client, item, french, jonas):
    client.force_login(jonas.user)
    response = client.get(feed_url())
    page = response.text
    assert item.title in page and FRENCH_TITLE not in page
    assert 'data-testid="language-note"' in page
    assert response.headers["Content-Language"] == "de"
    # In the German reader's words (Django's own catalogue names the languages).
    assert "Deutsch" in page and "Englisch" in page


def test_the_feed_reads_the_pages_variants_in_one_query(client, org, camille):
    client.force_login(camille.user)

    def count() -> int:
        with CaptureQueriesContext(db) as ctx:
            assert client.get(feed_url()).status_code == 200
        return len(ctx)

    ContentVariantFactory(item=ContentItemFactory(organization=org), language="fr")
    ContentItemFactory(organization=org)
    small = count()
    for _ in range(5):
        ContentVariantFactory(item=ContentItemFactory(organization=org), language="fr")
        ContentItemFactory(organization=org)
    assert count() == small


def test_the_composer_starts_from_the_variants_words_and_the_share_records_french(client, org, item, french, camille):
    SocialConnectionFactory(organization=org, user=camille.user, network="x", refresh_token="r")
    client.force_login(camille.user)
    url = reverse("content:compose", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    page = client.get(url).text
    assert FRENCH_TITLE in page and FRENCH_WORDS in page
    share = sharing.submit_share(
        actor=camille, item_id=item.pk, commentary=FRENCH_WORDS, target_keys=[sharing.targets_for(camille)[0].key],
        suggestion_id=item.suggestions.get().pk, confirm_repeat=True,
    )  # fmt: skip
    assert share.language == "fr"
    assert not share.is_personalised  # the marketer's French words, unchanged
    assert share.suggestion_id == item.suggestions.get().pk


def test_a_share_is_in_the_items_language_when_there_is_no_variant_in_mine(org, item, jonas):
    SocialConnectionFactory(organization=org, user=jonas.user, network="x", refresh_token="r")
    share = sharing.submit_share(
        actor=jonas, item_id=item.pk, commentary="Proud of our new solar plant in Lyon.",
        target_keys=[sharing.targets_for(jonas)[0].key], confirm_repeat=True,
    )  # fmt: skip
    assert share.language == "en"


# --- screening ------------------------------------------------------------------------------


def test_a_term_for_one_language_screens_only_posts_in_it():
    compiled = compile_policy(
        terms=[
            TermRule("garanti", "block", match="exact", applies_to="fr"),
            TermRule("guaranteed", "review", match="exact"),
        ]
    )
    text = "Rendement garanti, guaranteed returns"
    assert {f.rule for f in screen_text(text, compiled, language="fr")} == {"lexicon:garanti", "lexicon:guaranteed"}
    assert {f.rule for f in screen_text(text, compiled, language="en")} == {"lexicon:guaranteed"}
    assert {f.rule for f in screen_text(text, compiled)} == {"lexicon:garanti", "lexicon:guaranteed"}  # unknown: all


@pytest.mark.parametrize(
    "term, text",
    [
        ("strasse", "Die STRASSE"),
        ("straße", "die Strasse"),
        ("STRASSE", "die Straße"),
        ("strasse", "DIE STRAẞE"),
        ("œuvre", "une OEUVRE"),
        ("oeuvre", "une Œuvre"),
        ("été", "ÉTÉ"),
        ("año", "AÑO"),
        ("ｇａｒａｎｔｉｅ", "Garantie"),  # full-width letters (NFKC)
    ],
)
def test_each_languages_case_rules_fold_to_one_word(term, text):
    compiled = compile_policy(terms=[TermRule(term, "review", match="exact")])
    assert screen_text(text, compiled), (term, text)


def test_screening_a_share_applies_the_terms_of_its_language(org, item, french, camille, jonas, marketer):
    officer = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    policy_services.add_term(actor=officer, term="solaire", action="block", match="exact", applies_to="fr")
    for member in (camille, jonas):
        SocialConnectionFactory(organization=org, user=member.user, network="x", refresh_token="r")
    french_share = sharing.submit_share(
        actor=camille, item_id=item.pk, commentary="Une usine solaire.",
        target_keys=[sharing.targets_for(camille)[0].key], confirm_repeat=True,
    )  # fmt: skip
    assert french_share.status == Share.Status.REJECTED
    english_share = sharing.submit_share(
        actor=jonas, item_id=item.pk, commentary="Our solaire plant.", target_keys=[sharing.targets_for(jonas)[0].key],
        confirm_repeat=True,
    )  # fmt: skip
    assert english_share.language == "en" and english_share.status != Share.Status.REJECTED


def test_the_policy_terms_page_sets_a_terms_language(client, org):
    officer = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    client.force_login(officer.user)
    url = reverse("compliance:policy_terms", kwargs={"org_slug": "acme"})
    assert 'name="applies_to"' in client.get(url).text
    response = client.post(url, {"term": "garanti", "action": "review", "match": "exact", "applies_to": "fr"})
    assert response.status_code == 302
    assert LexiconTerm.objects.for_org(org).get().applies_to == "fr"
    assert 'data-testid="term-language"' in client.get(url).text


def test_making_a_term_screen_one_language_only_is_a_relaxation():
    before = {"action": "review", "match": "exact", "language": "en", "near": "", "near_distance": 5}
    before |= {"exceptions": [], "applies_to": ""}
    assert policy_services._term_relaxed(before, before | {"applies_to": "fr"})
    assert not policy_services._term_relaxed(before | {"applies_to": "fr"}, before)


def test_engine_names_the_out_of_scope_turkish_rules():
    assert "Turkish" in engine.__doc__


def test_the_items_own_suggestion_word_for_word_is_a_share_in_the_items_language(org, item, french, camille):
    """Slack's modal offers the item's own suggestions: shared as written, they are English."""
    SocialConnectionFactory(organization=org, user=camille.user, network="x", refresh_token="r")
    share = sharing.submit_share(
        actor=camille, item_id=item.pk, commentary="Proud of our new solar plant in Lyon.",
        target_keys=[sharing.targets_for(camille)[0].key], confirm_repeat=True,
    )  # fmt: skip
    assert share.language == "en"
