"""Pages for members and teams. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    MembershipForm,
    TeamForm,
)
from accounts.models import (
    Membership,
    Team,
)
from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate


@org_view(Permission.MEMBERS_VIEW)
def members(request):
    search = request.GET.get("q", "").strip()[:100]
    without_team = request.GET.get("team") == "none"
    found = selectors.members_of(request.organization, search=search, without_team=without_team, with_suspended=True)
    context = {"members": paginate(request, found), "q": search, "without_team": without_team}
    template = "accounts/_member_list.html" if request.htmx else "accounts/members.html"
    return render(request, template, context)


@org_view(Permission.MEMBERS_MANAGE)
def member_edit(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id, is_active=True)
    initial = {"roles": [r.value for r in membership.roles], "teams": list(membership.teams.all())}
    form = MembershipForm(request.POST or None, organization=request.organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            request,
            form,
            lambda: services.update_membership(
                actor=request.membership,
                membership=membership,
                roles=form.cleaned_data["roles"],
                teams=form.cleaned_data["teams"],
            ),
        )
        if done is not None:
            messages.success(request, _("Saved %(email)s.") % {"email": membership.user.email})
            return redirect("members", org_slug=request.organization.slug)
    return render(request, "accounts/member_edit.html", {"form": form, "member": membership})


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def member_remove(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id, is_active=True)
    if call_service(request, None, lambda: services.remove_member(actor=request.membership, membership=membership)):
        messages.success(request, _("Removed %(email)s.") % {"email": membership.user.email})
    return redirect("members", org_slug=request.organization.slug)


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def member_suspend(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id, is_active=True)
    reason = request.POST.get("reason", "")
    done = call_service(
        request, None, lambda: services.suspend_member(actor=request.membership, membership=membership, reason=reason)
    )
    if done is None:
        return redirect("member_edit", org_slug=request.organization.slug, membership_id=membership.pk)
    messages.success(
        request,
        _(
            "Suspended %(email)s: signed out, API tokens revoked, posts on their way held (listed under Held posts); "
            "their connected accounts are being disconnected."
        )
        % {"email": membership.user.email},
    )
    return redirect("members", org_slug=request.organization.slug)


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def member_reactivate(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id, suspended_at__isnull=False)
    if call_service(request, None, lambda: services.reactivate_member(actor=request.membership, membership=membership)):
        messages.success(
            request,
            _(
                "Reactivated %(email)s with their roles and teams. Their held posts stay held until you release "
                "them; they reconnect their social accounts themselves."
            )
            % {"email": membership.user.email},
        )
    return redirect("members", org_slug=request.organization.slug)


@org_view(Permission.TEAMS_MANAGE)
def teams(request):
    org = request.organization
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = call_service(request, form, lambda: services.create_team(actor=request.membership, **form.cleaned_data))
        if team is not None:
            messages.success(request, _("Team %(team)s created.") % {"team": team.name})
            return redirect("teams", org_slug=org.slug)
    return render(request, "accounts/teams.html", {"form": form, "teams": selectors.teams_of(org)})


@org_view(Permission.TEAMS_MANAGE)
def team_edit(request, team_id):
    team = get_for_org_or_404(Team, request.organization, pk=team_id)
    form = TeamForm(request.POST or None, initial={"name": team.name, "kind": team.kind})
    saved = (
        request.method == "POST"
        and form.is_valid()
        and call_service(
            request, form, lambda: services.update_team(actor=request.membership, team=team, **form.cleaned_data)
        )
    )
    if saved:
        messages.success(request, _("Team saved."))
        return redirect("teams", org_slug=request.organization.slug)
    return render(request, "accounts/team_edit.html", {"form": form, "team": team})


@org_view(Permission.TEAMS_MANAGE)
@require_POST
def team_delete(request, team_id):
    team = get_for_org_or_404(Team, request.organization, pk=team_id)
    deleted = call_service(request, None, lambda: services.delete_team(actor=request.membership, team=team))
    if deleted:
        messages.success(
            request, _("Team %(team)s deleted; its members stay in the organization.") % {"team": team.name}
        )
    return redirect("teams", org_slug=request.organization.slug)
