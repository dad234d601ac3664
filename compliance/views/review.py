"""The compliance officer's pages: the review queue, one review, and the dashboard."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from accounts.models import Network, Team
from accounts.permissions import Permission
from advocacy.templatetags.zones import when, when_text
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, page_number
from compliance import selectors
from compliance.models import Action, Decision, ReviewTask
from compliance.services import review as review_services
from content.models import Share

QUEUE_PAGE_SIZE = 50
DASHBOARD_PERIODS = [7, 30, 90, 365]


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices)
    comment = forms.CharField(
        label=gettext_lazy("Comment for the employee"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required to reject or send back: say what to change, or why it cannot go out."),
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


@org_view(Permission.COMPLIANCE_REVIEW)
def queue(request):
    """Shares waiting for a decision, soonest deadline first, with filters and bulk approval."""
    organization = request.organization
    filters = selectors.QueueFilters.from_params(request.GET)
    tasks = selectors.review_queue_page(
        organization, filters, user_id=request.user.pk, number=page_number(request), per_page=QUEUE_PAGE_SIZE
    )
    policy = review_services.policy_of(organization.pk)
    labels = dict(Network.choices)
    slug = organization.slug
    review_url = _url_for_ids("compliance:review", slug, "share_id")
    claim_url = _url_for_ids("compliance:task_claim", slug, "review_task_id")
    words = _QueueWords()
    for task in tasks.object_list:
        task.row = _queue_row(
            task,
            words,
            review_url=review_url(task.share_id),
            claim_url=claim_url(task.pk),
            network_labels=[labels.get(n, n) for n in task.networks],
            is_own=policy.four_eyes and task.author_id == request.user.pk,
        )
    context = {
        "tasks": tasks,
        "filters": filters,
        "teams": Team.objects.for_org(organization).order_by("kind", "name"),
        "networks": Network.choices,
        "ages": selectors.AGE_CHOICES,
        "severities": selectors.SEVERITY_CHOICES,
        "assigned_choices": selectors.ASSIGNED_CHOICES,
        "filtered": filters != selectors.QueueFilters(),
    }
    return render(request, "compliance/queue.html", context)


class _QueueWords:
    """The queue's fixed words, translated once a page rather than once a row."""

    def __init__(self):
        # The badge says what the severity filter calls it ("Blocking", "Needs review", "Warning").
        self.findings = {action: str(label) for action, label in selectors.SEVERITY_CHOICES if action}
        self.no_findings = pgettext("findings", "None")
        self.you_supervise = _("You supervise")
        self.escalated = _("Escalated")
        self.overdue = _("Overdue")
        self.yours = _("Yours (four-eyes)")
        self.claim = _("Claim")


def _queue_row(task, words: _QueueWords, *, review_url, claim_url, network_labels, is_own) -> SafeString:
    """One row of the queue, built here as Django's admin builds its change list rows: the
    template engine spent most of the page's time walking 50 rows of tags and filters."""
    if not task.worst_action and not is_own:  # no findings and not the officer's own: bulk approval
        label = _("Choose the share of %(title)s by %(author)s") % {"title": task.title, "author": task.author_name}
        choose = format_html(
            '<input type="checkbox" name="share_ids" value="{}" aria-label="{}">', task.share_id, label
        )
    else:
        choose = ""
    version = " · " + _("version %(number)s") % {"number": task.version} if task.version > 1 else ""
    supervised = ""
    if task.is_mine:
        supervised = format_html(' <span class="tag" data-supervised>{}</span>', words.you_supervise)
    if task.worst_action:
        finding = format_html(
            '<span class="finding-badge finding-{}">{}</span>',
            task.worst_action,
            words.findings.get(task.worst_action, words.findings[Action.WARN]),
        )
    else:
        finding = format_html('<span class="muted">{}</span>', words.no_findings)
    if task.team_name:
        loc = " loc" if task.team_kind == "location" else ""
        team = format_html('<span class="tag{}">{}</span>', loc, task.team_name)
    else:
        team = mark_safe('<span class="muted">—</span>')
    if task.escalated_at:
        title = _("Escalated %(when)s") % {"when": when_text(task.escalated_at, "j M H:i")}
        flag = format_html(
            '<strong class="status-needs_reconnect" data-escalated title="{}">{}</strong><br>', title, words.escalated
        )
    elif task.is_overdue:
        flag = format_html('<strong class="status-needs_reconnect">{}</strong><br>', words.overdue)
    else:
        flag = ""
    waiting = _("waiting %(since)s") % {"since": timesince(task.opened_at)}
    if task.assigned_to_id:
        reviewer = format_html("{}", task.assignee_name)
    elif is_own:
        reviewer = format_html('<span class="muted">{}</span>', words.yours)
    else:
        reviewer = format_html(
            '<button class="small secondary" type="submit" formaction="{}">{}</button>', claim_url, words.claim
        )
    return format_html(
        '<tr data-share="{}" class="{}" data-queue-row{}>'
        "<td>{}</td>"
        '<td class="user-text"><a href="{}" data-review-link><strong>{}</strong></a>'
        '<br><span class="muted">{}{}</span>{}<br><span class="muted">{}</span></td>'
        "<td>{}</td><td>{}</td><td>{}</td>"
        '<td>{}{}<br><span class="muted">{}</span></td>'
        "<td>{}</td></tr>",
        task.share_id,
        "overdue" if task.is_overdue else "",
        mark_safe(" data-mine") if task.is_mine else "",
        choose,
        review_url,
        task.title,
        task.author_name,
        version,
        supervised,
        Truncator(task.commentary).chars(90),
        finding,
        team,
        format_html_join("", '<span class="tag">{}</span>', ((label,) for label in network_labels)),
        flag,
        when(task.due_at, "j M H:i"),
        waiting,
        reviewer,
    )


@org_view(Permission.COMPLIANCE_REVIEW)
@require_POST
def bulk_approve(request):
    """Approve the ticked shares that have no findings; say how many were skipped and why."""
    ids = [value for value in request.POST.getlist("share_ids") if value.isdigit() and len(value) < 10]
    result = call_service(
        request,
        None,
        lambda: review_services.bulk_approve(actor=request.membership, share_ids=[int(i) for i in ids]),
    )
    if result is not None:
        (messages.success if result.approved else messages.warning)(request, result.summary())
    return redirect(_back(request, reverse("compliance:queue", kwargs={"org_slug": request.organization.slug})))


@org_view(Permission.COMPLIANCE_REVIEW)
def review_detail(request, share_id):
    """One share: its findings highlighted per network, the diffs, its history, and the decision."""
    organization = request.organization
    review = selectors.review_for(organization, share_id)
    if review is None:
        raise Http404("No share found")
    share = review.share
    form = DecisionForm(request.POST or None, initial={"version": share.version})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            decision = call_service(
                request,
                form,
                lambda: review_services.decide(
                    actor=request.membership,
                    share_id=share.pk,
                    outcome=data["outcome"],
                    comment=data["comment"],
                    version=data["version"],
                ),
            )
            if decision is not None:
                messages.success(request, _decided_message(decision, share))
                following = selectors.next_in_queue(organization, after_share_id=share.pk, user_id=request.user.pk)
                if following is not None:
                    return redirect(_review_url(request, following.share_id))
                return redirect("compliance:queue", org_slug=organization.slug)
            review = selectors.review_for(organization, share_id)  # show what stands now
            share = review.share
        else:
            form.add_error(None, _("Choose approve, reject or send back."))
    policy = review_services.policy_of(organization.pk)
    following = selectors.next_in_queue(organization, after_share_id=share.pk, user_id=request.user.pk)
    context = {
        "review": review,
        "share": share,
        "task": review.task,
        "form": form,
        "own": policy.four_eyes and share.author_id == request.user.pk,
        "in_review": share.status == Share.Status.IN_REVIEW,
        "officers": selectors.compliance_officers(organization),
        "next_url": _review_url(request, following.share_id) if following else "",
    }
    return render(request, "compliance/review.html", context)


def _decided_message(decision: Decision, share: Share) -> str:
    if decision.outcome == Decision.Outcome.APPROVED:
        return _("Approved: “%(title)s” goes to publishing.") % {"title": share.item.title}
    if decision.outcome == Decision.Outcome.REJECTED:
        return _("Rejected: %(name)s was told why.") % {"name": share.author.get_full_name()}
    return _("Sent back: %(name)s was asked to change it.") % {"name": share.author.get_full_name()}


def _url_for_ids(name: str, org_slug: str, id_kwarg: str):
    """A function of the id giving the URL of the route `name`, for the many rows of one page:
    `reverse` once (a tenth of a millisecond each, two a row), the rows fill in their id."""
    head, tail = reverse(name, kwargs={"org_slug": org_slug, id_kwarg: 0}).rsplit("/0/", 1)
    return lambda pk: f"{head}/{pk}/{tail}"


def _review_url(request, share_id: int) -> str:
    return reverse("compliance:review", kwargs={"org_slug": request.organization.slug, "share_id": share_id})


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _task_action(request, review_task_id, action):
    task = get_for_org_or_404(ReviewTask, request.organization, pk=review_task_id)
    done = call_service(request, None, lambda: action(task))
    if done is not None:
        who = done.assigned_to.get_full_name() if done.assigned_to_id else _("nobody")
        messages.success(request, _("Assigned to %(name)s.") % {"name": who})
    return redirect(_back(request, _review_url(request, task.share_id)))


@org_view(Permission.COMPLIANCE_REVIEW)
@require_POST
def task_claim(request, review_task_id):
    return _task_action(
        request,
        review_task_id,
        lambda task: review_services.claim(actor=request.membership, review_task_id=task.pk),
    )


@org_view(Permission.COMPLIANCE_REVIEW)
@require_POST
def task_assign(request, review_task_id):
    user = request.POST.get("user", "")
    return _task_action(
        request,
        review_task_id,
        lambda task: review_services.assign(
            actor=request.membership, review_task_id=task.pk, user_id=int(user) if user.isdigit() else 0
        ),
    )


@org_view(Permission.COMPLIANCE_REVIEW)
@require_POST
def task_unassign(request, review_task_id):
    return _task_action(
        request,
        review_task_id,
        lambda task: review_services.unassign(actor=request.membership, review_task_id=task.pk),
    )


@org_view(Permission.COMPLIANCE_REVIEW)
def dashboard(request):
    """Queue size, overdue items, median time to decision, approval rate, frequent findings."""
    days = request.GET.get("days", "30")
    days = int(days) if days.isdigit() and int(days) in DASHBOARD_PERIODS else 30
    numbers = selectors.dashboard_numbers(request.organization, days=days)
    top = numbers.top_findings[0][1] if numbers.top_findings else 0
    unapproved = selectors.published_without_approval(request.organization)
    context = {"numbers": numbers, "days": days, "periods": DASHBOARD_PERIODS, "top": top, "unapproved": unapproved}
    return render(request, "compliance/dashboard.html", context)
