"""The marketer's item editor (issue 16, item 10): suggestion rows added and removed in place,
each row's count and preview per network from the function that builds the posted text,
the link card as the networks draw it, and a title required once the page gave none (the
page's own title proposed)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from advocacy.errors import ValidationFailed
from content.models import ContentItem
from content.services import library as services
from content.services import sharing
from content.services.sharing import final_text, sample_link
from networks.text import measure
from tests.accounts.factories import MembershipFactory
from tests.compliance.factories import PolicyFactory
from tests.content.factories import ContentItemFactory, SuggestionFactory
from tests.content.test_library import url

pytestmark = pytest.mark.django_db

PAGE = """<html><head><title>Fallback</title>
<meta property="og:title" content="Acme opens a plant in Lyon">
<meta property="og:description" content="Four hundred jobs by 2027.">
</head><body></body></html>"""

LONG_FOR_X = "Our new plant in Lyon brings four hundred jobs to the region by 2027. " * 5  # 350 characters


def rows(*suggestions, initial=0, removed=()) -> dict:
    """The editor's formset fields for these (text, network) rows."""
    data = {"suggestions-TOTAL_FORMS": str(len(suggestions)), "suggestions-INITIAL_FORMS": str(initial)}
    for index, (text, network) in enumerate(suggestions):
        data[f"suggestions-{index}-text"] = text
        data[f"suggestions-{index}-network"] = network
        if index in removed:
            data[f"suggestions-{index}-DELETE"] = "on"
    return data


def item_fields(item, **changes) -> dict:
    return {"url": item.url, "title": item.title, "description": item.description, **changes}


def expected(network: str, text: str) -> int:
    return measure(network, final_text(network, text, sample_link())).length


def counts_in(html: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for network, number in re.findall(r'data-testid="count-(\w+)">(\d+)<', html):
        found.setdefault(network, []).append(int(number))
    return found


# --- counts per network ---------------------------------------------------------------------


def test_a_suggestion_counts_as_the_post_the_composer_and_publisher_build():
    text = "Proud of our team: https://acme.example/careers — come and join us! 🎉"
    checks = {c.network: c for c in services.suggestion_checks(text, "")}
    assert set(checks) == {"linkedin", "x", "facebook"}  # "every network": all three
    for network, check in checks.items():
        posted = final_text(network, text, sample_link())
        assert check.length == measure(network, posted).length
        assert check.limit == measure(network, posted).limit
    # The tracked link is a real one's length: X weighs it 23, LinkedIn counts every character.
    assert len(sample_link()) == len(settings.SITE_URL + "/r/") + 8
    assert checks["linkedin"].length == len(text) + 2 + len(sample_link())
    assert checks["facebook"].length == len(text)  # Facebook posts carry the link apart
    assert checks["x"].preview.endswith("/r/…")


def test_a_suggestion_for_one_network_counts_on_it_only_and_says_when_it_is_too_long():
    [check] = services.suggestion_checks(LONG_FOR_X, "x")
    assert (check.network, check.fits) == ("x", False)
    assert check.over == check.length - 280 == expected("x", LONG_FOR_X) - 280


def test_with_a_disclosure_policy_a_row_counts_what_the_composer_counts(client, org, marketer):
    """Acme appends "#AcmeEmployee": the row's numbers are the composer's for the same words."""
    PolicyFactory(organization=org, disclosure="#AcmeEmployee", disclosure_mode="append")
    employee = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    item = ContentItemFactory(organization=org)
    words = "Proud of our Lyon team https://acme.example/jobs"
    networks = ["facebook", "linkedin", "x"]
    screened = sharing.post_texts(employee, item, words, {}, networks, []).texts
    composer = sharing.text_checks(screened)
    assert all("#AcmeEmployee" in screened[n] for n in networks)
    client.force_login(marketer.user)
    html = client.post(
        url("library_suggestion_check", org) + "?row=0", {"suggestions-0-text": words, "suggestions-0-network": ""}
    ).content.decode()
    assert counts_in(html) == {n: [composer[n]["length"]] for n in networks}
    assert counts_in(html)["x"] == [expected("x", words) + len(" #AcmeEmployee")]
    assert "#AcmeEmployee" in html  # in the previews


def test_the_live_count_endpoint_answers_the_rows_counts(client, org, marketer):
    client.force_login(marketer.user)
    response = client.post(
        url("library_suggestion_check", org) + "?row=3",
        {"suggestions-3-text": LONG_FOR_X, "suggestions-3-network": "x"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="suggestions-3-checks"' in html
    assert counts_in(html) == {"x": [expected("x", LONG_FOR_X)]}
    over = expected("x", LONG_FOR_X) - 280
    assert f"X allows 280 characters and this has {expected('x', LONG_FOR_X)}: shorten it by {over}." in html
    every = client.post(
        url("library_suggestion_check", org) + "?row=0", {"suggestions-0-text": "Hello", "suggestions-0-network": ""}
    ).content.decode()
    assert counts_in(every) == {n: [expected(n, "Hello")] for n in ("linkedin", "x", "facebook")}
    too_long = client.post(url("library_suggestion_check", org) + "?row=0", {"suggestions-0-text": "a" * 3001})
    assert "Longer than 3000 characters: shorten it to save it." in too_long.content.decode()
    assert client.post(url("library_suggestion_check", org) + "?row=x", {}).status_code == 400


def test_the_editor_shows_each_rows_counts(client, org, marketer):
    item = ContentItemFactory(organization=org)
    SuggestionFactory(item=item, text="For everyone, with a link https://acme.example/jobs", network="")
    SuggestionFactory(item=item, text=LONG_FOR_X, network="x", position=1)
    client.force_login(marketer.user)
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    first, second = html.split('id="suggestions-0-checks"')[1].split('id="suggestions-1-checks"')
    every = "For everyone, with a link https://acme.example/jobs"
    assert counts_in(first) == {n: [expected(n, every)] for n in ("linkedin", "x", "facebook")}
    assert counts_in(second.split('id="suggestions-2-checks"')[0]) == {"x": [expected("x", LONG_FOR_X)]}
    assert "shorten it by" in second


# --- rows added and removed in place --------------------------------------------------------


def test_add_a_suggestion_answers_the_next_numbered_row_and_the_new_row_count(client, org, marketer):
    client.force_login(marketer.user)
    response = client.get(url("library_suggestion_row", org), {"suggestions-TOTAL_FORMS": "3"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="suggestions-3-text"' in html and 'name="suggestions-3-network"' in html
    assert 'name="suggestions-3-DELETE"' in html and "Suggested commentary 4" in html
    assert re.search(r'name="suggestions-TOTAL_FORMS" value="4"[^>]*hx-swap-oob="true"', html)


def test_no_row_beyond_the_cap_and_the_reason_is_said(client, org, marketer):
    client.force_login(marketer.user)
    cap = services.MAX_SUGGESTIONS
    full = client.get(url("library_suggestion_row", org), {"suggestions-TOTAL_FORMS": str(cap)})
    html = full.content.decode()
    assert full["HX-Reswap"] == "none" and "suggestions-20-text" not in html
    assert f"This item has {cap} suggestions, the most it can have: remove one to add another." in html
    # Two rows removed in place free two places: the next row is numbered after all of them.
    freed = client.get(
        url("library_suggestion_row", org),
        {"suggestions-TOTAL_FORMS": str(cap), "suggestions-3-DELETE": "on", "suggestions-7-DELETE": "on"},
    )
    assert "HX-Reswap" not in freed and f'name="suggestions-{cap}-text"' in freed.content.decode()
    assert client.get(url("library_suggestion_row", org), {"suggestions-TOTAL_FORMS": "-1"}).status_code == 400


def test_rows_beyond_the_old_two_are_saved_in_order_and_shown(client, org, marketer):
    item = ContentItemFactory(organization=org, status="draft")
    SuggestionFactory(item=item, text="Already there")
    client.force_login(marketer.user)
    wanted = [("Already there", ""), ("Second", "x"), ("Third", "linkedin"), ("Fourth", "facebook"), ("Fifth", "")]
    data = {**item_fields(item), **rows(*wanted, initial=1)}
    response = client.post(url("library_item", org, content_item_id=item.pk), data)
    assert response.status_code == 302
    assert [(s.text, s.network) for s in item.suggestions.all()] == wanted
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    for index, (text, _network) in enumerate(wanted):
        assert re.search(rf'name="suggestions-{index}-text"[^>]*>\s*{text}</textarea>', html), text
    assert 'name="suggestions-5-text"' in html  # one empty row to type in
    assert 'name="suggestions-6-text"' not in html


def test_a_row_removed_in_place_is_not_saved(client, org, marketer):
    item = ContentItemFactory(organization=org, status="draft")
    SuggestionFactory(item=item, text="Keep me")
    SuggestionFactory(item=item, text="Drop me", position=1)
    client.force_login(marketer.user)
    data = {**item_fields(item), **rows(("Keep me", ""), ("Drop me", ""), ("New one", "x"), initial=2, removed={1})}
    assert client.post(url("library_item", org, content_item_id=item.pk), data).status_code == 302
    assert [(s.text, s.network) for s in item.suggestions.all()] == [("Keep me", ""), ("New one", "x")]


def test_more_than_the_cap_is_refused_in_words_and_nothing_changes(client, org, marketer):
    item = ContentItemFactory(organization=org, status="draft", description="Before")
    SuggestionFactory(item=item, text="Saved before")
    client.force_login(marketer.user)
    too_many = [(f"Suggestion {n}", "") for n in range(services.MAX_SUGGESTIONS + 1)]
    data = {**item_fields(item, description="After"), **rows(*too_many)}
    response = client.post(url("library_item", org, content_item_id=item.pk), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "At most 20 suggestions per item: remove one before adding another." in html
    assert "Suggestion 20" in html  # what was typed is still on the page
    item.refresh_from_db()
    assert item.description == "Before" and [s.text for s in item.suggestions.all()] == ["Saved before"]
    # With one of them removed in place, the other twenty are saved.
    data = {**item_fields(item), **rows(*too_many, removed={0})}
    assert client.post(url("library_item", org, content_item_id=item.pk), data).status_code == 302
    assert item.suggestions.count() == 20 and not item.suggestions.filter(text="Suggestion 0").exists()


def test_an_item_at_the_cap_shows_the_add_button_disabled_with_the_reason(client, org, marketer):
    item = ContentItemFactory(organization=org)
    for n in range(services.MAX_SUGGESTIONS):
        SuggestionFactory(item=item, position=n)
    client.force_login(marketer.user)
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert re.search(r'data-testid="add-suggestion"[^>]*disabled', html)
    assert "the most it can have" in html and 'name="suggestions-20-text"' not in html


def test_the_editor_costs_the_same_queries_with_two_or_twenty_suggestions(client, org, marketer):
    client.force_login(marketer.user)
    few, many = ContentItemFactory(organization=org), ContentItemFactory(organization=org)
    for n in range(2):
        SuggestionFactory(item=few, position=n)
    for n in range(services.MAX_SUGGESTIONS):
        SuggestionFactory(item=many, position=n, network=["", "x", "linkedin", "facebook"][n % 4])

    def cost(item) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url("library_item", org, content_item_id=item.pk))
        assert response.status_code == 200 and response.content.decode().count("data-suggestion-row") >= 2
        return len(ctx)

    assert cost(few) == cost(many) <= 16


def test_the_live_endpoints_cost_a_fixed_few_queries(client, org, marketer):
    client.force_login(marketer.user)
    with CaptureQueriesContext(connection) as check:
        client.post(url("library_suggestion_check", org) + "?row=0", {"suggestions-0-text": "Hi"})
    with CaptureQueriesContext(connection) as row:
        client.get(url("library_suggestion_row", org), {"suggestions-TOTAL_FORMS": "2"})
    assert len(check) <= 6 and len(row) <= 6


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COMPLIANCE, Role.EXECUTIVE, Role.ADMIN], ids=str)
def test_only_marketers_use_the_row_endpoints(client, org, role):
    client.force_login(MembershipFactory(organization=org, roles=[role]).user)
    check = client.post(url("library_suggestion_check", org) + "?row=0", {"suggestions-0-text": "Hi"})
    row = client.get(url("library_suggestion_row", org), {"suggestions-TOTAL_FORMS": "2"})
    assert (check.status_code, row.status_code) == (403, 403)


# --- the link card ----------------------------------------------------------------------------


def test_the_link_card_shows_picture_site_title_and_description_cut_like_the_networks(client, org, marketer):
    item = ContentItemFactory(
        organization=org,
        url="https://www.acme.example/news/lyon",
        title="Acme opens a plant in Lyon, bringing four hundred jobs to the region by the end of 2027",
        description="Word " * 60,
        image="content/2026/01/lyon.jpg",
    )
    client.force_login(marketer.user)
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    card = html.split('data-testid="link-card"')[1].split("</section>")[0]
    title = re.search(r'data-testid="card-title">([^<]*)<', card).group(1)
    description = re.search(r'data-testid="card-description">([^<]*)<', card).group(1)
    assert len(title) == 70 and title.endswith("…") and item.title.startswith(title[:-1])
    assert len(description) == 160 and description.endswith("…")
    assert "acme.example" in card and "www.acme.example" not in card
    assert f'<img src="{item.image.url}"' in card


def test_the_link_card_without_a_picture_says_where_one_comes_from(client, org, marketer):
    item = ContentItemFactory(organization=org, title="Short")
    client.force_login(marketer.user)
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    card = html.split('data-testid="link-card"')[1].split("</section>")[0]
    assert "No picture" in card and "<img" not in card and 'data-testid="card-title">Short<' in card


# --- a title once the page gave none --------------------------------------------------------


def test_after_a_failed_fetch_saving_needs_a_title_and_changes_nothing(client, org, marketer):
    item = ContentItemFactory(
        organization=org, status="draft", title="", description="Before", unfurl_status="failed", unfurl_error="404"
    )
    SuggestionFactory(item=item, text="Saved before")
    with pytest.raises(ValidationFailed, match="its page could not be fetched") as refused:
        services.update_item(actor=marketer, item=item, title="  ", description="After")
    assert refused.value.fields == {"title": ["Required."]}
    client.force_login(marketer.user)
    page = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert "Required: the page could not be fetched, so there is no title to use." in page  # said before saving
    data = {**item_fields(item, description="After"), **rows(("Typed now", ""))}
    response = client.post(url("library_item", org, content_item_id=item.pk), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give the item a title: its page could not be fetched, so there is no title to show." in html
    assert "Typed now" in html and "After" in html  # what was typed is kept on the page
    item.refresh_from_db()
    assert item.description == "Before" and [s.text for s in item.suggestions.all()] == ["Saved before"]
    data["title"] = "Our own title"
    assert client.post(url("library_item", org, content_item_id=item.pk), data).status_code == 302
    item.refresh_from_db()
    assert (item.title, item.description) == ("Our own title", "After")


def test_an_untitled_item_may_be_saved_while_its_page_is_fetched_or_refetched(org, marketer):
    pending = ContentItemFactory(organization=org, status="draft", title="", unfurl_status="pending")
    assert services.update_item(actor=marketer, item=pending, title="", description="x").description == "x"
    failed = ContentItemFactory(organization=org, status="draft", title="", unfurl_status="failed")
    moved = services.update_item(actor=marketer, item=failed, title="", url="https://acme.example/the-right-link")
    assert moved.unfurl_status == ContentItem.Unfurl.PENDING  # the new link is fetched


def test_the_fetched_title_is_kept_and_proposed_beside_the_marketers_own(client, org, marketer, site):
    site.page("/lyon", PAGE)
    item = services.create_item(actor=marketer, url=site.url("/lyon"), title="Our words", fetch_preview=False)
    services.apply_unfurl(item_id=item.pk, organization_id=org.pk)
    item.refresh_from_db()
    assert (item.title, item.fetched_title) == ("Our words", "Acme opens a plant in Lyon")
    client.force_login(marketer.user)
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert "Fetched title: “<span data-fetched-title>Acme opens a plant in Lyon</span>”." in html
    assert 'data-use-title="Acme opens a plant in Lyon"' in html
    # Emptied by the marketer: the page's title is filled in on the form, and named if they save it empty.
    ContentItem.objects.for_org(org).filter(pk=item.pk).update(title="")
    html = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert re.search(r'name="title" value="Acme opens a plant in Lyon"', html)
    item.refresh_from_db()
    with pytest.raises(ValidationFailed, match="the page's own is “Acme opens a plant in Lyon”"):
        services.update_item(actor=marketer, item=item, title="")
    # A new link forgets the old page's title.
    moved = services.update_item(actor=marketer, item=item, url=site.url("/elsewhere"))
    assert moved.fetched_title == ""
