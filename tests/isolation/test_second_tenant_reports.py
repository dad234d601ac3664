"""A second tenant changes nothing the first one reads (issue 18, item 2).

Organization A gets a realistic history through the product's own services: shares submitted
and screened by A's policy, a compliance officer's decisions, published deliveries with metric
snapshots folded into the rollups, tracked clicks, conversions, CRM deals imported from a CSV,
the per-advocate stats and the audit trail all of that writes. Every report A can read is
captured: pages, CSV, PDF, API, the weekly summary e-mail and the compliance archive.

Organization B then gets MORE of every kind of row (more advocates, more shares, more clicks,
bigger deals), on the same days, with the same item URLs and slugs, the same team names, the
same deal ids, and the same people where a person can belong to both (A's reader and two of
A's advocates are B's members too). Every refresher the beat runs goes over every
organization. A's outputs are then captured again, once as the caches left them and once
recomputed cold: byte for byte what they were.

Time stands still (`NOW`) while A is captured, so the only things that vary between two
renders are the per-render CSRF tokens; `normalise` takes out exactly those, and
`test_the_normalisation_hides_no_number` shows it leaves any other difference visible.
"""

from __future__ import annotations

import difflib
import random
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.services import create_api_token
from analytics import demo, tasks
from analytics.digest import send_weekly_summaries
from analytics.models import AnalyticsSettings
from analytics.services import advocate_stats, advocates, deals, report_version, rollups
from analytics.services.clicks import write_clicks
from compliance.models import LexiconTerm, Policy, ReviewTask
from compliance.services import review
from compliance.services.archive import write_archive
from content.digest import send_digests
from content.models import Share
from content.services import sharing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory, UserFactory, acting
from tests.content.factories import ContentItemFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)  # a Monday: last week's summary is due
HISTORY_DAYS = 40
RANGE = {"start": "2026-02-16", "end": "2026-03-15"}  # the custom range of the reports
ARCHIVE_FROM, ARCHIVE_TO = date(2026, 2, 1), date(2026, 3, 15)


class _Rollback(Exception):
    pass


# --- building an organization through the product's services --------------------------------


def _member(org, user, roles):
    """The user's membership of `org` with these roles (made now, or kept from before)."""
    membership = Membership.objects.for_org(org).filter(user=user).first()
    if membership is None:
        return MembershipFactory(organization=org, user=user, roles=roles)
    membership.set_roles(roles)
    membership.save()
    return membership


def _people(org, *, reader_user, shared_users, extra: int):
    """The reader (every role), a compliance officer, the advocates (some shared with the
    other organization), each in one of two teams named alike in both organizations."""
    teams = [TeamFactory(organization=org, name=name) for name in ("Sales", "Marketing")]
    reader = _member(org, reader_user, list(Role))
    reader.teams.set([teams[0]])
    officer = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    users = list(shared_users) + [UserFactory() for _ in range(extra)]
    team_of = {}
    advocates_ = [reader]
    for n, user in enumerate(users):
        membership = _member(org, user, [Role.EMPLOYEE])
        membership.teams.set([teams[n % 2]])
        team_of[membership.pk] = teams[n % 2]
        advocates_.append(membership)
    return reader, officer, advocates_


def _compliance_history(org, officer, members, items, rng, *, rounds: int):
    """Shares submitted through the composer's service on past days, screened by the org's
    policy; the officer approves, rejects or sends back the flagged ones, some stay queued."""
    outcomes = ["approved", "rejected", "changes_requested", None]
    for round_ in range(rounds):
        for n, membership in enumerate(members):
            when = NOW - timedelta(days=2 + (round_ * 3 + n) % 12, hours=rng.randint(0, 5))
            flagged = (round_ + n) % 2 == 0
            text = f"Guaranteed results from our launch, take {round_}-{n}!" if flagged else f"Nice launch {n}."
            with time_machine.travel(when, tick=False):
                share = sharing.submit_share(
                    actor=membership,
                    item_id=rng.choice(items).pk,
                    commentary=text,
                    target_keys=["assisted:linkedin", "assisted:x"],
                    confirm_repeat=True,
                )
            outcome = outcomes[(round_ + n) % len(outcomes)]
            if share.status != Share.Status.IN_REVIEW or outcome is None:
                continue
            with time_machine.travel(when + timedelta(hours=2), tick=False):
                task = ReviewTask.objects.for_org(org).get(share=share)
                review.claim(actor=officer, review_task_id=task.pk)
                comment = "" if outcome == "approved" else "Please drop the promise."
                review.decide(actor=officer, share_id=share.pk, outcome=outcome, comment=comment)


def _published_history(org, members, items, rng, *, chance: float):
    """The demo's incremental paths (`analytics.demo`): published shares, deliveries with
    metric snapshots added to the rollups, clicks through the click writer, the activity
    fold, then conversions reported by the company site."""
    clicks = []
    for day_back in range(HISTORY_DAYS, 0, -1):
        for membership in members:
            if rng.random() > chance:
                continue
            when = NOW - timedelta(days=day_back, hours=rng.randint(0, 10), minutes=rng.randint(0, 59))
            team = membership.teams.first()
            share = Share.objects.create(
                organization=org,
                item=rng.choice(items),
                author_id=membership.user_id,
                commentary="Worth a read.",
                team=team,
                status=Share.Status.PUBLISHED,
                submitted_at=when,
            )
            Share.objects.for_org(org).filter(pk=share.pk).update(created_at=when)
            for network in rng.sample(["linkedin", "x", "facebook"], rng.randint(1, 3)):
                demo._post(org, share, network, when + timedelta(minutes=5), NOW, rng, clicks)
    write_clicks(clicks)
    rollups.fold_activity(organization=org, now=NOW + rollups.FOLD_LAG)
    demo._conversions(org, clicks, NOW, rng)


def _deals(org, reader, *, count: int, amount: int):
    """Closed-won deals from a CRM export, the same ids in both organizations, tied to the
    organization's tracked links where there are some."""
    from analytics.models import Conversion

    codes = list(
        Conversion.objects.for_org(org).exclude(tracking_code="").order_by("pk").values_list("tracking_code", flat=True)
    )
    lines = ["id,amount,currency,close_date,tracking_code"]
    for n in range(count):
        code = codes[n % len(codes)] if codes else ""
        lines.append(f"deal-{n},{amount + n * 100}.00,EUR,2026-03-{1 + n % 14:02d},{code}")
    deals.import_deals_csv(actor=acting(org), content="\n".join(lines).encode(), filename="crm.csv")


def refresh_everything():
    """What the beat runs, over every organization: the activity fold, late attributions,
    the per-advocate stats, and a full rebuild of every organization's rollups and stats."""
    from accounts.models import Organization

    tasks.rollup_activity()
    tasks.attribute_pending_conversions()
    tasks.refresh_advocate_stats()
    for org in Organization.objects.order_by("pk"):
        rollups.rebuild(org)
        advocate_stats.rebuild(org)
        report_version.warm(org.pk)


def build(org, *, reader_user, shared_users, extra: int, seed: int, scale: int):
    rng = random.Random(seed)
    reader, officer, members = _people(org, reader_user=reader_user, shared_users=shared_users, extra=extra)
    Policy.objects.create(organization=org)
    LexiconTerm.objects.create(organization=org, term="guaranteed", action="review", note="Promises need review")
    AnalyticsSettings.objects.create(
        organization=org,
        currency="EUR",
        cpm_linkedin=Decimal("28.00") * scale,
        cpm_x=Decimal("6.50") * scale,
        cpm_facebook=Decimal("9.00") * scale,
        cpc=Decimal("0.80") * scale,
        licence_per_month=Decimal("1500.00"),
    )
    items = [
        ContentItemFactory(
            organization=org,
            slug=f"acme-news-{n}",
            title=f"Acme news {n}",
            url=f"https://acme.example/news/{n}",
            published_at=NOW - timedelta(days=HISTORY_DAYS + 5),
        )
        for n in range(3 * scale)
    ]
    with time_machine.travel(NOW, tick=False):
        _published_history(org, members, items, rng, chance=min(0.3 * scale, 0.9))
        _deals(org, reader, count=2 * scale, amount=1000 * scale)
    _compliance_history(org, officer, members, items, rng, rounds=scale)
    for n in range(2 * scale):  # new this week: what the content digest lists
        ContentItemFactory(
            organization=org,
            slug=f"fresh-{n}",
            title=f"Fresh news {n}",
            url=f"https://acme.example/fresh/{n}",
            published_at=NOW - timedelta(days=2, hours=n),
        )
    with time_machine.travel(NOW, tick=False):
        advocates.set_weekly_summary(actor=reader, enabled=True)
        refresh_everything()
    return reader


# --- capturing everything A reads -------------------------------------------------------------

CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|<meta name="csrf-token" content="|"X-CSRFToken": ")([^"]+)')
TOKEN = re.compile(r"[A-Za-z0-9]{64}")


def normalise(body: bytes) -> bytes:
    """Take out the per-render CSRF tokens, and nothing else: each value taken out must be a
    masked token (64 letters and digits), never a figure."""
    text = body.decode()

    def blank(match):
        assert TOKEN.fullmatch(match.group(2)), f"not a CSRF token: {match.group(2)!r}"
        return match.group(1) + "CSRF"

    return CSRF.sub(blank, text).encode()


PAGES = [
    ("org_home", {}),
    ("analytics:reports", {}),
    ("analytics:reports", RANGE),
    ("analytics:reports_csv", {}),
    ("analytics:reports_csv", RANGE),
    ("analytics:reports_pdf", RANGE),
    ("analytics:content_performance", {}),
    ("analytics:content_performance", RANGE),
    ("analytics:my_stats", {}),
    ("analytics:my_stats", RANGE),
    ("analytics:weekly_summary", {}),
    ("compliance:dashboard", {}),
    ("compliance:queue", {}),
    ("compliance:audit_log", {}),
    ("compliance:audit_log", {"action": "share", "page": "2"}),
    ("compliance:audit_log", {"q": "guaranteed"}),
    ("compliance:audit_search", {"q": "guaranteed"}),
    ("compliance:audit_search", {"q": "results", "decision": "approved", "network": "linkedin"}),
    ("compliance:archive", {}),
    ("content:my_shares", {}),
    ("content:feed", {}),
]
API = [
    "analytics/roi/",
    "analytics/content/",
    "analytics/me/",
    "analytics/leaderboard/",
    "review-tasks/",
    "audit-entries/",
    "shares/",
]


def capture(client, org, reader, token: str, tmp_path) -> dict[str, bytes]:
    """Every output of `org` as its reader gets it, at NOW. Inside a savepoint rolled back
    afterwards: whatever a read writes (a sent summary's mark) is undone, so capturing twice
    reads the same organization."""
    out: dict[str, bytes] = {}
    with time_machine.travel(NOW, tick=False):
        try:
            with transaction.atomic():
                for name, params in PAGES:
                    response = client.get(reverse(name, kwargs={"org_slug": org.slug}), params)
                    assert response.status_code == 200, (name, params, response.status_code)
                    key = f"{name}?{sorted(params.items())}"
                    out[key] = normalise(response.content) if "html" in response["Content-Type"] else response.content
                for path in API:
                    for params in ({}, RANGE) if path.startswith("analytics/") else ({},):
                        response = client.get(
                            f"/api/v1/o/{org.slug}/{path}", params, HTTP_AUTHORIZATION=f"Bearer {token}"
                        )
                        assert response.status_code == 200, (path, response.status_code)
                        out[f"api {path}?{sorted(params.items())}"] = response.content
                out.update(_emails(reader))
                out.update(_archive(org, tmp_path / f"{len(list(tmp_path.iterdir()))}.zip"))
                raise _Rollback
        except _Rollback:
            pass
    return out


def _emails(reader) -> dict[str, bytes]:
    """The weekly summary and the content digest the reader gets from A (the beat's senders,
    over every organization; the reader's mail from B is B's)."""
    from django.core import mail

    out = {}
    for name, send in (("weekly summary", send_weekly_summaries), ("content digest", send_digests)):
        sent_before = len(mail.outbox)
        send(now=NOW)
        mine = [m for m in mail.outbox[sent_before:] if m.to == [reader.user.email] and "Alpha" in m.subject]
        assert len(mine) == 1, name
        out[name] = one_click_links(f"{mine[0].subject}\n{mine[0].body}").encode()
    return out


ONE_CLICK = re.compile(r"(/mail/(?:share|unsubscribe)/)([^/\s]+)/")


def one_click_links(text: str) -> str:
    """Take out the e-mail's one-click link tokens, and nothing else: each is signed for one
    use (a fresh nonce per mail), so two sends differ there and only there."""

    def blank(match):
        assert ":" in match.group(2), f"not a signed token: {match.group(2)!r}"
        return match.group(1) + "TOKEN/"

    return ONE_CLICK.sub(blank, text)


def _archive(org, path) -> dict[str, bytes]:
    """The compliance archive the export task writes (`write_archive`): every file of the
    zip by its content (a zip's own entry timestamps are not content)."""
    write_archive(organization=org, date_from=ARCHIVE_FROM, date_to=ARCHIVE_TO, target=str(path))
    with zipfile.ZipFile(path) as archive:
        return {f"archive {name}": archive.read(name) for name in sorted(archive.namelist())}


@pytest.fixture
def world(client, settings, tmp_path):
    settings.SITE_URL = "https://go.acme.example"
    reader_user = UserFactory(email="reader@both.example")
    shared = [UserFactory(email=f"advocate{n}@both.example") for n in range(2)]
    org_a = OrganizationFactory(slug="alpha", name="Alpha", timezone="Europe/Paris")
    org_b = OrganizationFactory(slug="bravo", name="Bravo", timezone="Europe/Paris")
    # The people of both organizations belong to B from the start: the organization switcher
    # lists the reader's organizations, which is the reader's business, not B's data.
    for user in (reader_user, *shared):
        MembershipFactory(organization=org_b, user=user, roles=[Role.EMPLOYEE])
    reader = build(org_a, reader_user=reader_user, shared_users=shared, extra=1, seed=1, scale=1)
    with time_machine.travel(NOW, tick=False):
        _, token = create_api_token(actor=reader, name="report script")
    client.force_login(reader_user)
    return {"a": org_a, "b": org_b, "reader": reader, "shared": shared, "token": token, "client": client}


def _difference(before: dict[str, bytes], after: dict[str, bytes], keys: list[str]) -> str:
    """The first changed lines of the first few changed outputs, for the failure message."""
    shown = []
    for key in keys[:3]:
        old, new = before[key].decode(errors="replace"), after[key].decode(errors="replace")
        diff = difflib.unified_diff(old.splitlines(), new.splitlines(), key, key, n=1, lineterm="")
        shown.append("\n".join(list(diff)[:30]))
    return "\n".join(shown)


def test_a_second_organization_changes_nothing_the_first_one_reads(world, tmp_path):
    a, b, reader, client, token = world["a"], world["b"], world["reader"], world["client"], world["token"]
    cache.clear()
    before = capture(client, a, reader, token, tmp_path)
    assert len(before) == 43
    # The capture reads a real history, not empty pages.
    assert b"Guaranteed results" in before["archive shares.jsonl"]
    assert b'<mark class="search-hit">Guaranteed</mark>' in before["compliance:audit_search?[('q', 'guaranteed')]"]
    assert before["archive manifest.json"].count(b'"rows"') == 8
    assert b'"rank":1' in before["api analytics/leaderboard/?[]"]
    assert b"Fresh news 1" in before["content digest"]

    with time_machine.travel(NOW, tick=False):
        other_reader = UserFactory()
    build(b, reader_user=other_reader, shared_users=[world["reader"].user, *world["shared"]], extra=6, seed=2, scale=3)
    # B really holds more of everything than A.
    from analytics.models import AdvocateDailyStats, Conversion, DailyRollup, Deal
    from compliance.models import AuditEntry, Decision, Screening

    for model in (DailyRollup, AdvocateDailyStats, Screening, Decision, AuditEntry, Conversion, Deal):
        assert model.objects.for_org(b).count() > model.objects.for_org(a).count() > 0, model.__name__

    as_cached = capture(client, a, reader, token, tmp_path)
    cache.clear()
    recomputed = capture(client, a, reader, token, tmp_path)
    for after in (as_cached, recomputed):
        assert after.keys() == before.keys()
        changed = [key for key in before if after[key] != before[key]]
        assert not changed, f"A's outputs changed after B was filled: {changed}\n" + _difference(before, after, changed)


def test_the_normalisation_hides_no_number():
    page = b'<form><input type="hidden" name="csrfmiddlewaretoken" value="' + b"a1" * 32 + b'"><td>1,234</td></form>'
    other = page.replace(b"a1" * 32, b"b2" * 32)
    assert normalise(page) == normalise(other)
    assert normalise(page) != normalise(page.replace(b"1,234", b"1,235"))
    with pytest.raises(AssertionError, match="not a CSRF token"):
        normalise(b'<input name="csrfmiddlewaretoken" value="1,234">')
