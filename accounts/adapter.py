"""The allauth seam: what happens in our domain when allauth confirms an address, checks a
password or sets a new one."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import ngettext

from accounts import login_throttle, selectors, services
from accounts.services import push
from advocacy.languages import browser_language


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUPS

    def save_user(self, request, user, form, commit=True):
        """A new account speaks the browser's language when it asks for one we ship (else
        it follows its organization's default)."""
        user = super().save_user(request, user, form, commit=False)
        if not user.language:
            user.language = browser_language(request)
        if commit:
            user.save()
        return user

    def confirm_email(self, request, email_address):
        """After allauth marks the address verified, join orgs that allow its domain."""
        confirmed = super().confirm_email(request, email_address)
        services.join_organizations_by_email_domain(user=email_address.user, email=email_address.email)
        return confirmed

    def pre_authenticate(self, request, **credentials) -> None:
        """Before a password is checked: refuse, without checking it, while this account must
        wait for this source or for everyone (`accounts.login_throttle`); then allauth's own
        limit on wrong passwords per address (ACCOUNT_RATE_LIMITS' login_failed)."""
        login = credentials.get("email") or credentials.get("username") or ""
        try:
            self._login_attempt = login_throttle.begin_attempt(login=login, ip=self.get_client_ip(request))
        except login_throttle.LoginDelayed as delayed:
            raise ValidationError(delayed.message, code=delayed.code) from None
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            login_throttle.withdraw_attempt(self._login_attempt)
            raise

    def authenticate(self, request, **credentials):
        """A right password clears this source's failures (the attempt counted as one). A
        user whose every membership is suspended is refused, with words saying so (only
        after the right password: a stranger learns nothing)."""
        self._login_attempt = None
        user = super().authenticate(request, **credentials)
        if user is not None and self._login_attempt is not None:
            login_throttle.attempt_succeeded(self._login_attempt)
        if user is not None and (refusal := selectors.sign_in_refusal(user)):
            raise ValidationError(refusal, code="suspended")
        return user

    def pre_login(self, request, user, **kwargs):
        """Every way in (a password, a login code, single sign-on) ends here: a user whose
        every membership is suspended is turned back to the sign-in page with the reason."""
        if user.is_active and (refusal := selectors.sign_in_refusal(user)):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            messages.error(request, refusal)
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def logout(self, request) -> None:
        """Signing out also stops the pushes to the devices subscribed in this session."""
        if request.user.is_authenticated:
            push.forget_devices_on_sign_out(
                user_id=request.user.pk, endpoints=request.session.get(push.SESSION_ENDPOINTS, [])
            )
        super().logout(request)

    def set_password(self, user, password) -> None:
        """Password change and password reset both land here: revoke the API tokens and clear
        the account's login delays too."""
        super().set_password(user, password)
        # The owner proved control (the reset mail, or the current password): lift the delays.
        for email in {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}:
            login_throttle.forget_account(login=email)
        revoked = services.revoke_api_tokens_after_password_change(user=user)
        request = getattr(self, "request", None)
        if revoked and request is not None:
            messages.warning(
                request,
                ngettext(
                    "Your password changed, so your API token was revoked; create a new one if you need it.",
                    "Your password changed, so your %(count)d API tokens were revoked; create new ones as needed.",
                    revoked,
                )
                % {"count": revoked},
            )
