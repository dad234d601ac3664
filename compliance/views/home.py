"""The home page (issue 16, item 8): per role, what is left to do, each one click away.

It lives in compliance, the lowest app that may read every app it shows (accounts, content,
compliance): the contracts in .importlinter keep the project package from importing apps.
Each count comes from its app's selectors with a fixed number of queries, so the page costs
the same whatever the data size (QUERIES).
An item shows while it is due and disappears once done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Membership
from accounts.permissions import Permission, can
from advocacy.views import org_view
from compliance import selectors as compliance_selectors
from content.selectors import library as library_selectors
from content.selectors import sharing as sharing_selectors

# Queries each part of the checklist costs, whatever the data (the tests hold the page to them).
QUERIES = {"employee": 3, "marketer": 1, "compliance": 1, "admin": 3}


@dataclass(frozen=True)
class Todo:
    """One thing left to do: what, where to do it, and why it matters."""

    key: str  # stable name, for the page's data-todo attribute and the tests
    text: str
    url: str
    hint: str = ""
    urgent: bool = False


@dataclass(frozen=True)
class RoleChecklist:
    role: str  # employee, marketer, compliance, admin
    title: str
    todos: list[Todo] = field(default_factory=list)


def checklist_for(membership: Membership, *, now=None) -> list[RoleChecklist]:
    """What is left to do in each of the member's roles, in the order of the navigation;
    a role with nothing left has an empty list."""
    now = now or timezone.now()
    org = membership.organization

    def url(name: str, query: str = "", **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": org.slug, **kwargs}) + query

    lists = []
    if can(membership, Permission.FEED_USE):
        lists.append(RoleChecklist("employee", _("Sharing"), _employee_todos(membership, now, url)))
    if can(membership, Permission.LIBRARY_MANAGE):
        lists.append(RoleChecklist("marketer", _("Content library"), _marketer_todos(membership, url)))
    if can(membership, Permission.COMPLIANCE_REVIEW):
        lists.append(RoleChecklist("compliance", _("Review"), _compliance_todos(membership, now, url)))
    if can(membership, Permission.MEMBERS_MANAGE):
        lists.append(RoleChecklist("admin", _("Your organization"), _admin_todos(membership, now, url)))
    return lists


def _employee_todos(membership: Membership, now, url) -> list[Todo]:
    todos = []
    connections = account_selectors.connection_counts(membership)
    if connections["needs_reconnect"]:
        n = connections["needs_reconnect"]
        todos.append(
            Todo(
                "reconnect",
                ngettext("Reconnect %(count)s account", "Reconnect %(count)s accounts", n) % {"count": n},
                url("connections"),
                _("The network withdrew access: posts to it wait until you reconnect."),
                urgent=True,
            )
        )
    elif not connections["active"]:
        todos.append(
            Todo(
                "connect",
                _("Connect a social account"),
                url("connections"),
                _("LinkedIn, X or Facebook: your shares go out from your own accounts."),
            )
        )
    guideline = account_selectors.current_guideline_for(membership)
    if guideline is not None and guideline.accepted_at is None:
        todos.append(
            Todo(
                "guidelines",
                _("Read and accept the social media guidelines"),
                url("guidelines"),
                _("Version %(version)s, published %(day)s.")
                % {"version": guideline.version, "day": date_format(localtime(guideline.published_at), "j M Y")},
            )
        )
    shares = sharing_selectors.share_counts(membership, now=now)
    if shares["sent_back"]:
        n = shares["sent_back"]
        todos.append(
            Todo(
                "sent_back",
                ngettext("%(count)s share sent back to you", "%(count)s shares sent back to you", n) % {"count": n},
                url("content:share_detail", share_id=shares["sent_back_id"]) if n == 1 else url("content:my_shares"),
                _("Compliance asked for changes or turned it down: read why, edit and submit again."),
                urgent=True,
            )
        )
    if not shares["shares"]:
        todos.append(
            Todo(
                "first_share",
                _("Make your first share"),
                url("content:feed"),
                _("Pick a story, add a sentence of yours."),
            )
        )
    return todos


def _marketer_todos(membership: Membership, url) -> list[Todo]:
    n = library_selectors.new_proposal_count(membership.organization_id)
    if not n:
        return []
    return [
        Todo(
            "proposals",
            ngettext("%(count)s proposal from employees", "%(count)s proposals from employees", n) % {"count": n},
            url("content:library_proposals"),
            _("Links your colleagues think are worth sharing: add them to the library or decline."),
        )
    ]


def _compliance_todos(membership: Membership, now, url) -> list[Todo]:
    queue = compliance_selectors.queue_counts(membership.organization_id, now=now)
    todos = []
    if queue["waiting"]:
        n = queue["waiting"]
        todos.append(
            Todo(
                "queue",
                ngettext("%(count)s share waiting for review", "%(count)s shares waiting for review", n) % {"count": n},
                url("compliance:queue"),
                _("Soonest deadline first."),
            )
        )
    if queue["overdue"]:
        n = queue["overdue"]
        todos.append(
            Todo(
                "overdue",
                ngettext("%(count)s past the review deadline", "%(count)s past the review deadline", n) % {"count": n},
                url("compliance:queue"),
                _("They waited longer than the policy's review time; they are at the top of the queue."),
                urgent=True,
            )
        )
    return todos


def _admin_todos(membership: Membership, now, url) -> list[Todo]:
    counts = account_selectors.setup_counts(membership.organization, now=now)
    todos = []
    if n := counts["pending_invitations"]:
        todos.append(
            Todo(
                "invitations",
                ngettext("%(count)s invitation not accepted yet", "%(count)s invitations not accepted yet", n)
                % {"count": n},
                url("invitations"),
                _("Resend a reminder or revoke it."),
            )
        )
    if n := counts["members_without_team"]:
        todos.append(
            Todo(
                "no_team",
                ngettext("%(count)s member without a team", "%(count)s members without a team", n) % {"count": n},
                url("members", "?team=none"),
                _("Teams decide who sees targeted content and how reports group results."),
            )
        )
    if n := counts["unverified_domains"]:
        todos.append(
            Todo(
                "domains",
                ngettext("%(count)s sign-up domain not verified", "%(count)s sign-up domains not verified", n)
                % {"count": n},
                url("org_settings", "#domains-h"),
                _("Nobody joins through a domain until you prove it is yours."),
            )
        )
    return todos


@org_view()
def org_home(request):
    """The landing page: what is left to do in each of the member's roles, then their places."""
    account_services.switch_organization(actor=request.membership)
    checklist = checklist_for(request.membership)
    context = {"checklist": checklist, "nothing_left": not any(part.todos for part in checklist)}
    return render(request, "home.html", context)
