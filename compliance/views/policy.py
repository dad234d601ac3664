"""The policy editor: settings, lexicon, patterns, allowed domains, review rules per team or role.

Thin: forms check shape, `compliance.services.policy` decides and audits, the reads come
from `compliance.selectors.policy`. A refused change re-renders the page with what was typed.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Permission, can
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate
from compliance.forms import (
    DomainForm,
    PatternForm,
    PolicySettingsForm,
    ReviewRuleForm,
    ScreenTestForm,
    TermEditForm,
    TermForm,
    TermImportForm,
)
from compliance.models import AllowedDomain, LexiconTerm, PatternRule, PendingPolicyChange, ReviewRule
from compliance.selectors import policy as policy_selectors
from compliance.services import policy as services
from compliance.services import screening as screening_services

TERMS_PER_PAGE = 100
WAITS = gettext_lazy("Less review waits for another compliance officer or an org admin to confirm it.")


def _settings_initial(policy) -> dict:
    return {name: getattr(policy, name) for name in services.SETTINGS_FIELDS}


def _policy_page(request, status: int = 200, **forms):
    page = policy_selectors.policy_page(request.organization.pk)
    context = {
        "page": page,
        "settings_form": forms.get("settings_form") or PolicySettingsForm(initial=_settings_initial(page.policy)),
        "pattern_form": forms.get("pattern_form") or PatternForm(),
        "domain_form": forms.get("domain_form") or DomainForm(),
        "rule_form": forms.get("rule_form") or ReviewRuleForm(teams=page.teams),
        "test_form": forms.get("test_form") or ScreenTestForm(),
        "check": forms.get("check"),
        "pending_changes": page.pending_changes,
    }
    return render(request, "compliance/policy.html", context, status=status)


def _back(request, anchor: str = ""):
    return redirect(reverse("compliance:policy", kwargs={"org_slug": request.organization.slug}) + anchor)


@org_view(Permission.COMPLIANCE_POLICY)
@require_http_methods(["GET", "POST"])
def policy(request):
    """The policy's settings, patterns, domains and review rules on one page."""
    if request.method == "POST":
        form = PolicySettingsForm(request.POST)
        saved = form.is_valid() and call_service(
            request, form, lambda: services.update_policy(actor=request.membership, **form.cleaned_data)
        )
        if saved:
            # what update_policy held back is what differs from what was asked
            if any(getattr(saved, name) != form.cleaned_data[name] for name in services.RELAXABLE_SETTINGS):
                messages.warning(request, _("Policy saved, except the relaxation: %(waits)s") % {"waits": WAITS})
            else:
                messages.success(request, _("Policy saved."))
            return _back(request)
        return _policy_page(request, status=400, settings_form=form)
    return _policy_page(request)


@org_view(Permission.COMPLIANCE_POLICY_CONFIRM)
@require_GET
def changes(request):
    """The relaxations waiting for a second person: where an org admin, who does not edit the
    policy, confirms or withdraws them (officers see the same list on the policy page)."""
    context = {"pending_changes": policy_selectors.pending_changes(request.organization.pk)}
    return render(request, "compliance/policy_changes.html", context)


def _back_from_change(request):
    if can(request.membership, Permission.COMPLIANCE_POLICY):
        return _back(request)
    return redirect("compliance:policy_changes", org_slug=request.organization.slug)


@org_view(Permission.COMPLIANCE_POLICY_CONFIRM)
@require_POST
def change_confirm(request, pending_policy_change_id):
    """A second officer or an org admin applies a relaxation another officer asked for."""
    change = get_for_org_or_404(PendingPolicyChange, request.organization, pk=pending_policy_change_id)
    if call_service(
        request, None, lambda: services.confirm_policy_change(actor=request.membership, change_id=change.pk)
    ):
        messages.success(request, _("Confirmed and applied: %(change)s.") % {"change": change.describe()})
    return _back_from_change(request)


@org_view(Permission.COMPLIANCE_POLICY_CONFIRM)
@require_POST
def change_withdraw(request, pending_policy_change_id):
    """The requester, another officer or an org admin drops a pending relaxation."""
    change = get_for_org_or_404(PendingPolicyChange, request.organization, pk=pending_policy_change_id)
    if call_service(
        request, None, lambda: services.withdraw_policy_change(actor=request.membership, change_id=change.pk)
    ):
        messages.success(request, _("Withdrawn: %(change)s.") % {"change": change.describe()})
    return _back_from_change(request)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def pattern_add(request):
    form = PatternForm(request.POST)
    if form.is_valid() and call_service(
        request, form, lambda: services.add_pattern(actor=request.membership, **form.cleaned_data)
    ):
        messages.success(request, _("Rule “%(name)s” added.") % {"name": form.cleaned_data["name"]})
        return _back(request, "#patterns")
    return _policy_page(request, status=400, pattern_form=form)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def pattern_delete(request, pattern_rule_id):
    rule = get_for_org_or_404(PatternRule, request.organization, pk=pattern_rule_id)
    if call_service(request, None, lambda: services.remove_pattern(actor=request.membership, pattern_rule_id=rule.pk)):
        messages.success(request, _("Rule “%(name)s” removed.") % {"name": rule.name})
    return _back(request, "#patterns")


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def domain_add(request):
    form = DomainForm(request.POST)
    if form.is_valid() and call_service(
        request, form, lambda: services.add_domain(actor=request.membership, **form.cleaned_data)
    ):
        messages.success(request, _("Domain allowed."))
        return _back(request, "#domains")
    return _policy_page(request, status=400, domain_form=form)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def domain_delete(request, allowed_domain_id):
    domain = get_for_org_or_404(AllowedDomain, request.organization, pk=allowed_domain_id)
    if call_service(
        request, None, lambda: services.remove_domain(actor=request.membership, allowed_domain_id=domain.pk)
    ):
        messages.success(request, _("Links to %(domain)s are findings again.") % {"domain": domain.domain})
    return _back(request, "#domains")


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def review_rule_set(request):
    page_teams = policy_selectors.policy_page(request.organization.pk).teams
    form = ReviewRuleForm(request.POST, teams=page_teams)
    result = form.is_valid() and call_service(
        request,
        form,
        lambda: services.set_review_rule(
            actor=request.membership,
            review_mode=form.cleaned_data["review_mode"],
            team_id=form.cleaned_data["team"],
            role=form.cleaned_data["role"],
        ),
    )
    if result:
        _rule_message(request, result, _("Review rule saved."))
        return _back(request, "#review-rules")
    return _policy_page(request, status=400, rule_form=form)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def review_rule_delete(request, review_rule_id):
    rule = get_for_org_or_404(ReviewRule, request.organization, pk=review_rule_id)
    result = call_service(
        request, None, lambda: services.remove_review_rule(actor=request.membership, review_rule_id=rule.pk)
    )
    if result:
        _rule_message(request, result, _("Review rule removed."))
    return _back(request, "#review-rules")


def _rule_message(request, result, done: str) -> None:
    if isinstance(result, PendingPolicyChange):
        messages.warning(
            request, _("Not applied yet: %(change)s. %(waits)s") % {"change": result.describe(), "waits": WAITS}
        )
    else:
        messages.success(request, done)


def _terms_page(request, status: int = 200, **forms):
    search = request.GET.get("q", "").strip()
    terms = paginate(request, policy_selectors.lexicon(request.organization.pk, search), TERMS_PER_PAGE)
    context = {
        "terms": terms,
        "search": search,
        "term_form": forms.get("term_form") or TermForm(),
        "import_form": forms.get("import_form") or TermImportForm(),
    }
    return render(request, "compliance/policy_terms.html", context, status=status)


@org_view(Permission.COMPLIANCE_POLICY)
@require_http_methods(["GET", "POST"])
def terms(request):
    """The lexicon: search it, add one term, paste many."""
    if request.method == "POST":
        form = TermForm(request.POST)
        if form.is_valid() and call_service(
            request, form, lambda: services.add_term(actor=request.membership, **form.cleaned_data)
        ):
            messages.success(request, _("“%(term)s” added to the lexicon.") % {"term": form.cleaned_data["term"]})
            return redirect("compliance:policy_terms", org_slug=request.organization.slug)
        return _terms_page(request, status=400, term_form=form)
    return _terms_page(request)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def terms_import(request):
    form = TermImportForm(request.POST)
    result = None
    if form.is_valid():
        result = call_service(
            request,
            form,
            lambda: services.import_terms(
                actor=request.membership,
                text=form.cleaned_data["text"],
                default_action=form.cleaned_data["default_action"],
            ),
        )
    if result is not None:
        messages.success(request, result.summary)
        return redirect("compliance:policy_terms", org_slug=request.organization.slug)
    return _terms_page(request, status=400, import_form=form)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def term_delete(request, lexicon_term_id):
    term = get_for_org_or_404(LexiconTerm, request.organization, pk=lexicon_term_id)
    if call_service(request, None, lambda: services.remove_term(actor=request.membership, lexicon_term_id=term.pk)):
        messages.success(request, _("“%(term)s” removed from the lexicon.") % {"term": term.term})
    return redirect("compliance:policy_terms", org_slug=request.organization.slug)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def policy_test(request):
    """ "Test a text": what the policy would flag in a pasted text, and why. Writes nothing.
    With htmx only the result is rendered into the page; without JavaScript the whole page."""
    form = ScreenTestForm(request.POST)
    check = None
    if form.is_valid():
        check = screening_services.check_text(organization_id=request.organization.pk, text=form.cleaned_data["text"])
    status = 200 if check is not None else 400
    if request.htmx:
        return render(request, "compliance/_policy_test.html", {"test_form": form, "check": check}, status=status)
    return _policy_page(request, status=status, test_form=form, check=check)


def _term_fields(term: LexiconTerm) -> dict:
    return {name: getattr(term, name) for name in services.TERM_FIELDS} | {"exceptions": "\n".join(term.exceptions)}


@org_view(Permission.COMPLIANCE_POLICY)
@require_http_methods(["GET", "POST"])
def term_edit(request, lexicon_term_id):
    """Change how a term matches and what it does; a relaxation waits for a second person."""
    term = get_for_org_or_404(LexiconTerm, request.organization, pk=lexicon_term_id)
    form = TermEditForm(request.POST or None, initial=_term_fields(term))
    if request.method == "POST":
        result = form.is_valid() and call_service(
            request,
            form,
            lambda: services.update_term(actor=request.membership, lexicon_term_id=term.pk, **form.cleaned_data),
        )
        if result:
            _rule_message(request, result, _("“%(term)s” saved.") % {"term": term.term})
            return redirect("compliance:policy_terms", org_slug=request.organization.slug)
    status = 400 if form.is_bound else 200
    return render(request, "compliance/policy_term_edit.html", {"term": term, "form": form}, status=status)
