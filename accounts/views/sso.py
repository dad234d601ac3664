"""Single sign-on pages: the admin's SSO settings and its "test sign-in", and the e-mail step
of the sign-in page (home-realm discovery)."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.account.utils import get_next_redirect_url
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.permissions import Permission
from accounts.services import sso as sso_services
from accounts.sso import PROTOCOLS, adapter, module_for, oidc, selectors
from accounts.sso.forms import EmailStepForm, SsoSettingsForm
from advocacy.views import call_service, org_view


@org_view(Permission.ORG_SETTINGS)
def sso_settings(request):
    org = request.organization
    config = selectors.configuration_of(org)
    form = SsoSettingsForm(request.POST or None, organization=org, initial=SsoSettingsForm.initial_for(config))
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: sso_services.save_sso_configuration(
                actor=request.membership,
                fields=form.service_fields(),
                secrets={"oidc_client_secret": form.cleaned_data["oidc_client_secret"]},
                break_glass=list(form.cleaned_data["break_glass"]),
            ),
        )
        if saved is not None:
            messages.success(request, _("Single sign-on settings saved."))
            return redirect("sso_settings", org_slug=org.slug)
    context = {
        "form": form,
        "config": config,
        "secret_stored": bool(config and config.oidc_client_secret),
        "domains": account_selectors.signup_domain_rows(org),
        "oidc_redirect_uri": request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": oidc.provider_id(org.slug)})
        ),
        # What the admin copies into the SAML IdP: our entity id (= the metadata URL) and ACS URL.
        "saml_metadata_url": request.build_absolute_uri(reverse("saml_metadata", args=[org.slug])),
        "saml_acs_url": request.build_absolute_uri(reverse("saml_acs", args=[org.slug])),
    }
    return render(request, "accounts/sso_settings.html", context)


@org_view(Permission.ORG_SETTINGS)
@require_POST
def sso_test(request):
    """Sign in once through the provider to see what it sends; nobody is signed in by it."""
    config = selectors.configuration_of(request.organization)
    if config is None or config.protocol not in PROTOCOLS or not module_for(config).is_complete(config):
        messages.error(request, _("Fill in and save the provider's settings first, then test them."))
        return redirect("sso_settings", org_slug=request.organization.slug)
    adapter.start_test(request, config)
    return adapter.start_sign_in(request, config, back=adapter.settings_url(config))


@login_not_required
@require_POST
def sso_discover(request):
    """The e-mail step: every address of an organization that signs in through its provider
    goes there (members, strangers and break-glass admins alike, so the answer tells nothing;
    the sign-in page offers "Sign in with a password instead"); anybody else to the password step."""
    form = EmailStepForm(request.POST)
    next_url = get_next_redirect_url(request)
    if not form.is_valid():
        return render(request, "account/login.html", {"email_form": form, "redirect_field_value": next_url or ""})
    email = form.cleaned_data["login"].lower()
    config = selectors.configuration_for_email(email)
    if config is not None and config.is_enabled and config.protocol in PROTOCOLS:
        return adapter.start_sign_in(request, config, next_url=next_url)
    query = {"email": email, **({"next": next_url} if next_url else {})}
    return redirect(f"{reverse('account_login')}?{urlencode(query)}")


@login_not_required
def saml_logout_refused(request, organization_slug: str):
    """allauth's SAML single-logout endpoint, shadowed (advocacy/urls.py): no IdP logout is
    configured here and allauth would accept an unsigned LogoutRequest, so any site could sign
    a visitor out. Not found, whatever it is sent. (allauth still reverses the route's name for
    the SP settings, so the route stays mounted behind this one.)"""
    raise Http404("No single logout here")
