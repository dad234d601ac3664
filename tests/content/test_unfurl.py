"""Fetching a user's URL must never reach inside our network, and never hang or fill memory.

Pages are served by a real HTTP server on loopback, allowed through UNFURL_ALLOWED_HOSTS
(host:port) only where a test says so. DNS answers are faked by replacing
`socket.getaddrinfo` (the resolver, not the code under test).
"""

from __future__ import annotations

import gzip
import ipaddress
import socket

import pytest

from content import unfurl
from content.unfurl import PRIVATE_MESSAGE, SCHEME_MESSAGE, FetchFailed
from tests.content.loopback import Endless, LoopbackSite, Silent, Trickle

OG_PAGE = """<!doctype html>
<html><head>
  <title>Plain title</title>
  <meta property="og:title" content="Acme &amp; friends launch">
  <meta property="og:description" content="  The   launch, in one line. ">
  <meta property="og:image" content="/img/launch.png">
  <meta name="twitter:title" content="Twitter title">
  <meta property="og:site_name" content="Acme News">
  <link rel="canonical" href="/news/launch">
</head><body><svg><title>icon</title></svg><p>Hello</p></body></html>"""


@pytest.fixture
def site(settings):
    with LoopbackSite() as loopback:
        settings.UNFURL_ALLOWED_HOSTS = [loopback.hostport]
        yield loopback


@pytest.fixture
def fake_dns(monkeypatch):
    """Answer chosen names with chosen addresses; every other name goes to the real resolver."""
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}
    calls: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        if host in answers:
            result = []
            for address in answers[host]:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
                result.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
            return result
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, calls


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::]/",
        "http://2130706433/",  # 127.0.0.1 written as one number
        "http://0x7f.0.0.1/",
        "https://127.0.0.1/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url):
    with pytest.raises(FetchFailed) as refused:
        unfurl.fetch(url)
    assert refused.value.message == PRIVATE_MESSAGE


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)"]
)
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchFailed) as refused:
        unfurl.fetch(url)
    assert refused.value.message == SCHEME_MESSAGE


def test_credentials_in_the_address_are_refused():
    with pytest.raises(FetchFailed, match="user name or password"):
        unfurl.fetch("http://admin:secret@example.com/")


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("10.1.2.3", False),
        ("100.100.100.200", False),  # cloud metadata in shared address space
        ("192.0.2.1", False),
        ("::ffff:169.254.169.254", False),
        ("2002:a00:1::", False),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::7f00:1", False),  # NAT64 wrapping 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("ff02::1", False),
        ("fec0::1", False),
    ],
)
def test_which_addresses_count_as_public(address, public):
    assert unfurl.is_public_address(ipaddress.ip_address(address)) is public


def test_a_name_that_resolves_to_a_private_address_is_refused(fake_dns):
    answers, _ = fake_dns
    answers["intranet.example.com"] = ["10.1.2.3"]
    with pytest.raises(FetchFailed) as refused:
        unfurl.unfurl("https://intranet.example.com/wiki")
    assert refused.value.message == PRIVATE_MESSAGE


def test_one_private_address_among_public_ones_is_enough_to_refuse(fake_dns):
    answers, _ = fake_dns
    answers["mixed.example.com"] = ["93.184.215.14", "127.0.0.1"]
    with pytest.raises(FetchFailed, match="private network"):
        unfurl.fetch("http://mixed.example.com/")


def test_an_ipv6_mapped_answer_is_refused(fake_dns):
    answers, _ = fake_dns
    answers["sneaky.example.com"] = ["::ffff:127.0.0.1"]
    with pytest.raises(FetchFailed, match="private network"):
        unfurl.fetch("http://sneaky.example.com/")


def test_international_names_are_resolved_in_their_ascii_form(fake_dns):
    answers, calls = fake_dns
    answers["xn--bcher-kva.example"] = ["10.0.0.7"]
    with pytest.raises(FetchFailed, match="private network"):
        unfurl.fetch("http://bücher.example/")
    assert calls == ["xn--bcher-kva.example"]


def test_an_unknown_name_says_so():
    with pytest.raises(FetchFailed, match="could not be found"):
        unfurl.fetch("http://no-such-host.invalid/")


def test_allowed_hosts_name_a_port_too(site):
    other_port = site.port + 1 if site.port < 65535 else site.port - 1
    with pytest.raises(FetchFailed, match="private network"):
        unfurl.fetch(f"http://127.0.0.1:{other_port}/")


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://localhost:{port}/page",  # the same server under a name that is not allowed
        "http://127.0.0.1:1/",  # another port of the allowed host
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(site, location):
    site.redirect("/go", location.format(port=site.port))
    site.page("/page", OG_PAGE)
    with pytest.raises(FetchFailed) as refused:
        unfurl.unfurl(site.url("/go"))
    assert refused.value.message in (PRIVATE_MESSAGE, SCHEME_MESSAGE)
    assert site.paths() == ["/go"]


def test_a_redirect_to_a_private_name_is_refused(site, fake_dns):
    answers, _ = fake_dns
    answers["internal.example.com"] = ["192.168.0.10"]
    site.redirect("/go", "http://internal.example.com/secrets")
    with pytest.raises(FetchFailed, match="private network"):
        unfurl.fetch(site.url("/go"))


def test_redirects_are_followed_and_the_final_address_kept(site):
    site.redirect("/old", "/middle", status=301)
    site.redirect("/middle", site.url("/news/launch-page"), status=308)
    site.page("/news/launch-page", OG_PAGE)
    preview = unfurl.unfurl(site.url("/old"))
    assert preview.url == site.url("/news/launch-page")
    assert preview.title == "Acme & friends launch"
    assert site.paths() == ["/old", "/middle", "/news/launch-page"]


def test_more_than_five_redirects_are_not_followed(site):
    for n in range(7):
        site.redirect(f"/r{n}", f"/r{n + 1}")
    with pytest.raises(FetchFailed, match="redirected more than 5 times"):
        unfurl.fetch(site.url("/r0"))
    assert len(site.requests) == 6


# --- pinning the vetted address -------------------------------------------------------------


def test_the_connection_goes_to_the_address_that_was_checked(site, settings, fake_dns, monkeypatch):
    """DNS rebinding: the first answer passes the check, later answers would point elsewhere.
    The name is resolved once and the connection is pinned to that answer; the Host header
    still names the site."""
    answers, calls = fake_dns
    answers["news.example.com"] = ["127.0.0.1"]
    settings.UNFURL_ALLOWED_HOSTS = [f"news.example.com:{site.port}"]
    site.page("/launch", OG_PAGE)

    def rebind(host, port, *args, **kwargs):  # any later lookup would get a private address
        calls.append(host)
        if host == "news.example.com" and calls.count(host) > 1:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.66.66.66", port))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebind)
    preview = unfurl.unfurl(f"http://news.example.com:{site.port}/launch")
    assert preview.title == "Acme & friends launch"
    assert calls.count("news.example.com") == 1
    assert site.requests[0][1]["host"] == f"news.example.com:{site.port}"


# --- size and time caps ---------------------------------------------------------------------


def test_a_page_over_the_size_cap_is_refused(site):
    site.page("/huge", b"<html>" + b"x" * (3 * 1024 * 1024 + 10))
    with pytest.raises(FetchFailed, match="larger than 3 MB"):
        unfurl.fetch(site.url("/huge"))


def test_a_body_without_length_is_stopped_at_the_cap(site):
    body = Endless()
    site.handler("/endless", body)
    with pytest.raises(FetchFailed, match="larger than 3 MB"):
        unfurl.fetch(site.url("/endless"))
    assert body.hung_up.wait(10), "the client hung up on the server"
    assert body.sent < body.limit * len(body.chunk), "before the server ran out of body"
    assert site.paths() == ["/endless"]


def test_a_compressed_bomb_is_stopped_at_the_cap(site):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    assert len(bomb) < 100_000
    site.page("/bomb", bomb)
    site.routes["/bomb"].headers["Content-Encoding"] = "gzip"
    with pytest.raises(FetchFailed, match="larger than 3 MB"):
        unfurl.fetch(site.url("/bomb"))


def test_a_trickling_server_is_cut_off_at_the_deadline(site):
    # Every piece comes well within any read timeout: only a deadline on the whole fetch ends it.
    body = Trickle(interval=0.2)
    site.handler("/slow", body)
    with pytest.raises(FetchFailed, match="took longer than 1 second"):
        unfurl.fetch(site.url("/slow"), timeout=1)
    assert body.hung_up.wait(10), "the client hung up while the server was still sending"
    assert site.paths() == ["/slow"]


def test_a_silent_server_is_cut_off_at_the_deadline(site):
    server = Silent()
    site.handler("/silent", server)
    try:
        with pytest.raises(FetchFailed, match=r"took longer than 0\.5 seconds"):
            unfurl.fetch(site.url("/silent"), timeout=0.5)
        assert not server.answered.is_set(), "the fetch gave up before the server said anything"
    finally:
        server.release()
    assert site.paths() == ["/silent"]


def test_the_default_deadline_is_five_seconds():
    assert unfurl.TIMEOUT == 5.0 and unfurl.MAX_BYTES == 3 * 1024 * 1024


# --- reading the page -----------------------------------------------------------------------


def test_open_graph_tags_make_the_preview(site):
    site.page("/news/launch-page", OG_PAGE)
    preview = unfurl.unfurl(site.url("/news/launch-page"))
    assert preview.title == "Acme & friends launch"  # og:title wins over <title>, entities decoded
    assert preview.description == "The launch, in one line."
    assert preview.image_url == site.url("/img/launch.png")  # relative made absolute
    assert preview.canonical_url == site.url("/news/launch")
    assert preview.site_name == "Acme News"
    assert site.requests[0][1]["user-agent"].startswith("AdvocacyLinkPreview")


def test_twitter_card_title_and_meta_description_are_fallbacks(site):
    site.page(
        "/t",
        '<html><head><title> Page\n title </title><meta name="description" content="Meta words">'
        '<meta name="twitter:image" content="https://cdn.example.com/card.jpg"></head></html>',
    )
    preview = unfurl.unfurl(site.url("/t"))
    assert (preview.title, preview.description, preview.image_url) == (
        "Page title",
        "Meta words",
        "https://cdn.example.com/card.jpg",
    )
    site.page("/tw", '<html><head><title>T</title><meta name="twitter:title" content="Card title"></head></html>')
    assert unfurl.unfurl(site.url("/tw")).title == "Card title"


def test_the_declared_charset_is_used(site):
    html = '<html><head><meta charset="iso-8859-1"><title>Café à Paris</title></head></html>'
    site.page("/latin", html.encode("iso-8859-1"), content_type="text/html")
    assert unfurl.unfurl(site.url("/latin")).title == "Café à Paris"


def test_unsafe_image_and_canonical_links_are_dropped(site):
    site.page(
        "/x",
        '<html><head><meta property="og:image" content="javascript:alert(1)">'
        '<link rel="canonical" href="data:text/html,hi"></head></html>',
    )
    preview = unfurl.unfurl(site.url("/x"))
    assert preview.image_url == "" and preview.canonical_url == ""


def test_something_that_is_not_a_page_has_no_preview(site):
    site.page("/logo.png", b"\x89PNG....", content_type="image/png")
    with pytest.raises(FetchFailed, match="not a web page"):
        unfurl.unfurl(site.url("/logo.png"))


def test_an_error_answer_is_reported_in_words(site):
    with pytest.raises(FetchFailed, match="answered 404 Not Found"):
        unfurl.unfurl(site.url("/missing"))


def test_a_closed_port_cannot_be_reached(settings):
    with LoopbackSite() as gone:
        port = gone.port
    settings.UNFURL_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    with pytest.raises(FetchFailed, match="could not be reached"):
        unfurl.fetch(f"http://127.0.0.1:{port}/")
