"""RSS and Atom feeds: entries become draft items once, failures are recorded on the feed,
one broken feed never stops the others. Feeds are served by a real loopback server."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Role
from advocacy.celery import app
from advocacy.errors import Conflict
from content import tasks
from content.feed_reader import read_feed
from content.models import ContentFeed, ContentItem
from content.services import library as services
from content.unfurl import PRIVATE_MESSAGE, FetchFailed
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.content.factories import ContentFeedFactory, ContentItemFactory
from tests.content.loopback import LoopbackSite

pytestmark = pytest.mark.django_db

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Acme Newsroom</title>
  <link>https://acme.example/news</link>
  <item>
    <title>Acme opens a plant in Lyon</title>
    <link>https://acme.example/news/lyon</link>
    <guid isPermaLink="false">acme-news-1001</guid>
    <description><![CDATA[<p>Four hundred <b>jobs</b> by 2027.</p><script>alert(1)</script>]]></description>
    <enclosure url="https://cdn.acme.example/lyon.jpg" type="image/jpeg" length="1000"/>
  </item>
  <item>
    <title>Quarterly results</title>
    <link>/news/q3</link>
    <media:thumbnail url="https://cdn.acme.example/q3.png"/>
  </item>
  <item>
    <title>No link, no item</title>
    <guid>acme-news-1003</guid>
  </item>
  <item>
    <title>Acme opens a plant in Lyon</title>
    <link>https://acme.example/news/lyon-again</link>
    <guid>acme-news-1004</guid>
  </item>
</channel>
</rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">Acme Engineering</title>
  <entry>
    <title>How we ship</title>
    <id>tag:acme.example,2026:post-7</id>
    <link rel="self" href="https://acme.example/api/posts/7"/>
    <link rel="alternate" type="text/html" href="/blog/how-we-ship"/>
    <summary type="html">&lt;p&gt;Small steps, &lt;em&gt;every day&lt;/em&gt;.&lt;/p&gt;</summary>
    <updated>2026-10-01T10:00:00Z</updated>
  </entry>
  <entry>
    <title>Hiring in Lyon</title>
    <id>tag:acme.example,2026:post-8</id>
    <link href="https://acme.example/blog/hiring"/>
    <content type="html">We are hiring.</content>
  </entry>
</feed>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss version="2.0"><channel><title>&lol2;</title></channel></rss>"""


@pytest.fixture
def site(settings):
    with LoopbackSite() as loopback:
        settings.UNFURL_ALLOWED_HOSTS = [loopback.hostport]
        yield loopback


def feed_at(org, site, path, body, content_type="application/rss+xml"):
    site.page(path, body, content_type=content_type)
    return ContentFeedFactory(organization=org, url=site.url(path))


def items_of(feed):
    return list(ContentItem.objects.for_org(feed.organization_id).filter(feed=feed).order_by("pk"))


def test_rss_entries_become_drafts_once(org, site):
    feed = feed_at(org, site, "/rss.xml", RSS)
    assert services.poll_feed(feed=feed) == 3
    first, second, third = items_of(feed)
    assert (first.title, first.url, first.source_guid) == (
        "Acme opens a plant in Lyon",
        "https://acme.example/news/lyon",
        "acme-news-1001",
    )
    assert first.description == "Four hundred jobs by 2027."  # HTML to text, scripts dropped
    assert first.image_url == "https://cdn.acme.example/lyon.jpg"
    assert (second.url, second.source_guid) == (site.url("/news/q3"), site.url("/news/q3"))  # no guid: the link
    assert second.image_url == "https://cdn.acme.example/q3.png"
    assert {i.status for i in (first, second, third)} == {ContentItem.Status.DRAFT}
    assert {i.source for i in (first, second, third)} == {ContentItem.Source.FEED}
    assert (first.slug, third.slug) == ("acme-opens-a-plant-in-lyon", "acme-opens-a-plant-in-lyon-2")
    feed.refresh_from_db()
    assert feed.title == "Acme Newsroom" and feed.last_error == "" and feed.last_checked_at is not None

    assert services.poll_feed(feed=feed) == 0  # polling again creates nothing
    assert len(items_of(feed)) == 3


def test_atom_entries_use_their_id_and_alternate_link(org, site):
    feed = feed_at(org, site, "/atom.xml", ATOM, content_type="application/atom+xml")
    assert services.poll_feed(feed=feed) == 2
    first, second = items_of(feed)
    assert (first.title, first.url, first.source_guid) == (
        "How we ship",
        site.url("/blog/how-we-ship"),
        "tag:acme.example,2026:post-7",
    )
    assert first.description == "Small steps, every day."
    assert second.url == "https://acme.example/blog/hiring" and second.description == "We are hiring."
    feed.refresh_from_db()
    assert feed.title == "Acme Engineering"
    assert services.poll_feed(feed=feed) == 0


def test_a_marketers_edits_survive_the_next_poll(org, site, marketer):
    feed = feed_at(org, site, "/rss.xml", RSS)
    services.poll_feed(feed=feed)
    item = items_of(feed)[0]
    services.update_item(actor=marketer, item=item, title="Our own title")
    services.publish_item(actor=marketer, item=item)
    services.poll_feed(feed=feed)
    item.refresh_from_db()
    assert (item.title, item.status) == ("Our own title", "published")


def test_new_entries_appear_on_a_later_poll(org, site):
    feed = feed_at(org, site, "/rss.xml", RSS)
    services.poll_feed(feed=feed)
    site.page(
        "/rss.xml",
        RSS.replace("</channel>", "<item><title>Fresh</title><link>https://acme.example/fresh</link></item></channel>"),
    )
    assert services.poll_feed(feed=feed) == 1
    assert items_of(feed)[-1].title == "Fresh"


def test_the_database_refuses_a_second_copy_of_an_entry(org):
    feed = ContentFeedFactory(organization=org)
    ContentItemFactory(organization=org, feed=feed, source_guid="entry-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentItemFactory(organization=org, feed=feed, source_guid="entry-1")
    other_feed = ContentFeedFactory(organization=org)
    ContentItemFactory(organization=org, feed=other_feed, source_guid="entry-1")  # another feed may


@pytest.mark.parametrize(
    "body, content_type, words",
    [
        (BILLION_LAUGHS, "application/rss+xml", "DOCTYPE or ENTITY declaration"),
        ('<?xml version="1.0"?><!ENTITY x SYSTEM "file:///etc/passwd"><rss/>', "text/xml", "DOCTYPE or ENTITY"),
        (BILLION_LAUGHS.encode("utf-16"), "application/xml", "DOCTYPE or ENTITY declaration"),
        ("<html><body>Not a feed</body></html>", "text/html", "does not hold an RSS or Atom feed"),
        ("<rss><channel><item>", "application/rss+xml", "could not be read"),
    ],
)
def test_a_broken_or_hostile_feed_records_its_error(org, site, body, content_type, words):
    feed = feed_at(org, site, "/feed", body, content_type=content_type)
    with pytest.raises(FetchFailed, match=words):
        services.poll_feed(feed=feed)
    feed.refresh_from_db()
    assert words in feed.last_error and feed.last_checked_at is not None
    assert items_of(feed) == []


def test_an_unreachable_feed_records_the_answer(org, site):
    feed = ContentFeedFactory(organization=org, url=site.url("/gone.xml"))
    with pytest.raises(FetchFailed):
        services.poll_feed(feed=feed)
    feed.refresh_from_db()
    assert feed.last_error == "The site answered 404 Not Found."


def test_a_success_clears_the_last_error(org, site):
    feed = feed_at(org, site, "/rss.xml", RSS)
    ContentFeed.objects.for_org(org).filter(pk=feed.pk).update(last_error="old trouble")
    services.poll_feed(feed=feed)
    feed.refresh_from_db()
    assert feed.last_error == ""


def test_feed_addresses_obey_the_private_network_rule(org, marketer):
    with pytest.raises(FetchFailed) as refused:
        services.add_feed(actor=marketer, url="http://10.0.0.5/rss")
    assert refused.value.message == PRIVATE_MESSAGE
    assert not ContentFeed.objects.for_org(org).exists()
    feed = ContentFeedFactory(organization=org, url="http://127.0.0.1:9/feed.xml")
    with pytest.raises(FetchFailed, match="private network"):
        services.poll_feed(feed=feed)
    feed.refresh_from_db()
    assert feed.last_error == PRIVATE_MESSAGE


def test_adding_a_feed_polls_it_after_commit_and_refuses_a_duplicate(
    org, marketer, site, django_capture_on_commit_callbacks
):
    site.page("/rss.xml", RSS, content_type="application/rss+xml")
    with django_capture_on_commit_callbacks() as callbacks:
        feed = services.add_feed(actor=marketer, url=site.url("/rss.xml"))
    assert len(callbacks) == 1 and feed.created_by == marketer.user
    with pytest.raises(Conflict, match="already in the library"):
        services.add_feed(actor=marketer, url=site.url("/rss.xml"))
    assert tasks.poll_feed(feed.pk, org.pk) == 3  # the task the callback enqueues, run here


@pytest.fixture
def eager_tasks():
    """`.delay()` runs the task here, at once (the schedule's fan-out without a worker)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_schedule_polls_every_active_feed_and_a_broken_one_stops_nothing(org, site, eager_tasks):
    other_org = OrganizationFactory()
    broken = feed_at(org, site, "/broken.xml", "<html>nope</html>", content_type="text/html")
    good = feed_at(org, site, "/rss.xml", RSS)
    elsewhere = feed_at(other_org, site, "/atom.xml", ATOM, content_type="application/atom+xml")
    paused = feed_at(org, site, "/paused.xml", RSS)
    services.set_feed_active(
        actor=MembershipFactory(organization=org, roles=[Role.MARKETER]), feed=paused, active=False
    )
    assert tasks.poll_feeds() == 3
    for feed in (broken, good, elsewhere, paused):
        feed.refresh_from_db()
    assert "does not hold an RSS or Atom feed" in broken.last_error
    assert len(items_of(good)) == 3 and good.last_error == ""
    assert len(items_of(elsewhere)) == 2 and elsewhere.organization_id == other_org.pk
    assert paused.last_checked_at is None and items_of(paused) == []


def test_the_feeds_page_adds_checks_pauses_and_shows_errors(client, org, marketer, site):
    site.page("/rss.xml", RSS, content_type="application/rss+xml")
    client.force_login(marketer.user)
    feeds_url = reverse("content:library_feeds", kwargs={"org_slug": org.slug})
    response = client.post(feeds_url, {"url": "http://192.168.0.1/feed"})
    assert response.status_code == 200 and PRIVATE_MESSAGE.replace("'", "&#x27;") in response.content.decode()
    assert 'value="http://192.168.0.1/feed"' in response.content.decode()
    response = client.post(feeds_url, {"url": site.url("/rss.xml")})
    assert response.status_code == 302
    feed = ContentFeed.objects.for_org(org).get()
    page = client.post(
        reverse("content:library_feed_poll", kwargs={"org_slug": org.slug, "content_feed_id": feed.pk}), follow=True
    ).content.decode()
    assert "3 new drafts" in page and "Acme Newsroom" in page
    site.page("/rss.xml", "<html/>", content_type="text/html")
    page = client.post(
        reverse("content:library_feed_poll", kwargs={"org_slug": org.slug, "content_feed_id": feed.pk}), follow=True
    ).content.decode()
    assert page.count("does not hold an RSS or Atom feed") == 2  # the message, and the feed's row
    client.post(reverse("content:library_feed_toggle", kwargs={"org_slug": org.slug, "content_feed_id": feed.pk}))
    feed.refresh_from_db()
    assert not feed.is_active


def test_parsing_keeps_only_web_links_and_one_entry_per_guid():
    body = b"""<rss><channel><title>T</title>
      <item><title>a</title><link>javascript:alert(1)</link></item>
      <item><title>b</title><link>https://x.example/b</link><guid>same</guid></item>
      <item><title>c</title><link>https://x.example/c</link><guid>same</guid></item>
    </channel></rss>"""
    parsed = read_feed(body, base_url="https://x.example/feed")
    assert [(e.title, e.guid) for e in parsed.entries] == [("b", "same")]


def test_rss_1_rdf_feeds_are_read():
    body = b"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
      <channel><title>Old style</title></channel>
      <item><title>One</title><link>https://x.example/1</link><description>First</description></item>
    </rdf:RDF>"""
    parsed = read_feed(body, base_url="https://x.example/")
    assert parsed.title == "Old style" and [(e.title, e.link) for e in parsed.entries] == [
        ("One", "https://x.example/1")
    ]


# Read by feedparser (content/feed_reader.py); the former ElementTree parser refused the first
# three outright ("could not be read") and mangled the fourth.
@pytest.mark.parametrize(
    "body, title, entry",
    [
        (  # HTML entities are not XML's: &eacute; and &nbsp; made the whole feed unreadable
            b"<rss version='2.0'><channel><title>Caf&eacute;</title><item><title>Caf&eacute;&nbsp;news</title>"
            b"<link>https://x.example/a</link></item></channel></rss>",
            "Caf\u00e9",
            ("Caf\u00e9 news", "https://x.example/a", ""),
        ),
        (  # not well formed (an unclosed <br>): the entries are still read
            b"<rss version='2.0'><channel><title>T</title><item><title>One</title>"
            b"<link>https://x.example/1</link><description>Line<br></description></item></channel></rss>",
            "T",
            ("One", "https://x.example/1", "Line"),
        ),
        (  # XHTML content: its paragraphs stay apart
            b"<feed xmlns='http://www.w3.org/2005/Atom'><title>A</title><entry><id>e1</id><title>T</title>"
            b"<link href='https://x.example/1'/><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>"
            b"<p>One</p><p>Two</p></div></content></entry></feed>",
            "A",
            ("T", "https://x.example/1", "One Two"),
        ),
        (  # declared UTF-8, written in Windows-1252: the accent survives
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title><item>"
            "<title>Caf\u00e9</title><link>https://x.example/1</link></item></channel></rss>".encode("cp1252"),
            "T",
            ("Caf\u00e9", "https://x.example/1", ""),
        ),
    ],
)
def test_feeds_the_former_parser_refused_or_mangled_are_read(body, title, entry):
    parsed = read_feed(body, base_url="https://x.example/")
    assert parsed.title == title and [(e.title, e.link, e.summary) for e in parsed.entries] == [entry]


def test_an_rss_guid_is_kept_as_written_and_never_becomes_the_link():
    body = b"""<rss version="2.0"><channel><title>T</title>
      <item><title>Only a guid</title><guid>post-1</guid></item>
      <item><title>Both</title><link>/news/2</link><guid>post-2</guid></item>
    </channel></rss>"""
    parsed = read_feed(body, base_url="https://x.example/feed")
    assert [(e.guid, e.link) for e in parsed.entries] == [("post-2", "https://x.example/news/2")]
