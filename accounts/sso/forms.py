"""Forms of single sign-on: the admin's settings, the e-mail step of the sign-in page, and the
password forms that send SSO-required members to their company sign-in."""

from __future__ import annotations

from allauth.account.forms import LoginForm, ResetPasswordForm, ResetPasswordKeyForm
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import RolesField
from accounts.models import Membership, Role, SsoConfiguration
from accounts.sso import DEFAULT_ATTRIBUTE_NAMES, insecure_url, saml, selectors

SAML_FIELDS = (*saml.IDP_FIELDS, "saml_allow_idp_initiated")


def password_refusal(email: str) -> str | None:
    """What a member of an SSO-required organization is told instead of using a password."""
    config = selectors.password_refused_by(email or "")
    if config is None:
        return None
    return _(
        "%(organization)s signs you in with its company sign-in: passwords are not used there. "
        "Enter your e-mail on the sign-in page and continue to your company's sign-in."
    ) % {"organization": config.organization.name}


class BreakGlassField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.email


class RoleMappingField(forms.CharField):
    """Lines `provider value = role` into {provider value: role}."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{k} = {v}" for k, v in value.items())
        return value

    def to_python(self, value) -> dict:
        mapping, bad = {}, []
        for line in (value or "").splitlines():
            if not line.strip():
                continue
            provided, sep, role = line.rpartition("=")
            if not sep or not provided.strip() or not role.strip():
                bad.append(line.strip())
                continue
            mapping[provided.strip()] = role.strip().lower()
        if bad:
            raise forms.ValidationError(
                _("Write one mapping per line, like “Marketing = marketer”: %(lines)s") % {"lines": "; ".join(bad)}
            )
        return mapping


class SsoSettingsForm(forms.Form):
    protocol = forms.ChoiceField(choices=SsoConfiguration.Protocol.choices, initial=SsoConfiguration.Protocol.OIDC)
    oidc_issuer = forms.URLField(
        required=False,
        max_length=500,
        label=_("Issuer URL"),
        assume_scheme="https",
        help_text=_("Your provider's issuer; its settings are read from <issuer>/.well-known/openid-configuration."),
    )
    oidc_client_id = forms.CharField(required=False, max_length=255, label=_("Client id"))
    oidc_client_secret = forms.CharField(
        required=False,
        label=_("Client secret"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the current one."),
    )
    saml_metadata_url = forms.URLField(
        required=False,
        max_length=500,
        label=_("SAML: IdP metadata URL"),
        assume_scheme="https",
        help_text=_("Where your identity provider publishes its SAML metadata (read at sign-in, kept 4 hours)."),
    )
    saml_metadata_xml = forms.CharField(
        required=False,
        label=_("SAML: IdP metadata (XML)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Or paste the metadata file itself. Either one replaces the three fields below."),
    )
    saml_idp_entity_id = forms.CharField(required=False, max_length=500, label=_("SAML: IdP entity id (issuer)"))
    saml_idp_sso_url = forms.URLField(
        required=False,
        max_length=500,
        label=_("SAML: IdP single sign-on URL"),
        assume_scheme="https",
        help_text=_("The IdP's sign-in URL for the HTTP-Redirect binding."),
    )
    saml_idp_x509_cert = forms.CharField(
        required=False,
        label=_("SAML: IdP signing certificate"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The X.509 certificate the IdP signs with (PEM: -----BEGIN CERTIFICATE----- ...)."),
    )
    saml_allow_idp_initiated = forms.BooleanField(
        required=False,
        label=_("SAML: allow IdP-initiated sign-in (from the IdP's app dashboard)"),
        help_text=_("Off is safer: a sign-in must then start here. Replayed answers are refused either way."),
    )
    attr_email = forms.CharField(required=False, max_length=100, label=_("E-mail claim"), initial="email")
    attr_name = forms.CharField(required=False, max_length=100, label=_("Name claim"), initial="name")
    attr_team = forms.CharField(
        required=False, max_length=100, label=_("Team claim"), help_text=_("For example department.")
    )
    attr_location = forms.CharField(required=False, max_length=100, label=_("Location claim"))
    attr_language = forms.CharField(
        required=False,
        max_length=100,
        label=_("Language claim"),
        initial="locale",
        help_text=_("For example locale. Members who have not chosen a language get the one it names."),
    )
    attr_roles = forms.CharField(
        required=False,
        max_length=100,
        label=_("Roles claim"),
        help_text=_("A claim listing roles or groups, e.g. groups."),
    )
    role_mapping = RoleMappingField(
        required=False,
        label=_("Role mapping"),
        help_text=_(
            "One per line: the provider's value = our role (employee, marketer, compliance, executive, admin)."
        ),
    )
    default_roles = RolesField(required=False, label=_("Roles of a first sign-in when no mapping matches"))
    session_minutes = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=43200,
        label=_("Session lifetime (minutes)"),
        help_text=_("How long a session started through single sign-on lasts. Empty: this deployment's default."),
    )
    is_enabled = forms.BooleanField(
        required=False, label=_("Enabled: people of your verified domains sign in through this provider")
    )
    sso_required = forms.BooleanField(
        required=False, label=_("SSO required: members cannot use a password (break-glass admins excepted)")
    )
    break_glass = BreakGlassField(
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Break-glass admins (keep their password)"),
    )

    ATTRIBUTES = tuple(DEFAULT_ATTRIBUTE_NAMES)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["break_glass"].queryset = (
            Membership.objects.for_org(organization).filter(is_admin=True, is_active=True).select_related("user")
        )

    @classmethod
    def initial_for(cls, config: SsoConfiguration | None) -> dict:
        if config is None:
            return {}
        mapping = config.attribute_mapping or {}
        return {
            "protocol": config.protocol,
            "oidc_issuer": config.oidc_issuer,
            "oidc_client_id": config.oidc_client_id,
            **{name: getattr(config, name) for name in SAML_FIELDS},
            **{f"attr_{key}": mapping.get(key, default) for key, default in DEFAULT_ATTRIBUTE_NAMES.items()},
            "role_mapping": config.role_mapping,
            "default_roles": config.default_roles,
            "session_minutes": config.session_minutes,
            "is_enabled": config.is_enabled,
            "sso_required": config.sso_required,
            "break_glass": list(config.break_glass.all()),
        }

    def clean_saml_metadata_url(self) -> str:
        if insecure_url(self.cleaned_data["saml_metadata_url"]):
            return self.cleaned_data["saml_metadata_url"]  # not fetched: the service refuses it in words
        return self._idp_checked("saml_metadata_url", saml.idp_from_metadata_url)

    def clean_saml_metadata_xml(self) -> str:
        return self._idp_checked("saml_metadata_xml", saml.parse_metadata_xml)

    def clean_saml_idp_x509_cert(self) -> str:
        return self._idp_checked("saml_idp_x509_cert", saml.validate_certificate)

    def _idp_checked(self, name: str, check) -> str:
        """The field's text, once `check` read it; its refusal, in words, as the field's error."""
        value = self.cleaned_data[name].strip()
        if value:
            try:
                check(value)
            except saml.InvalidIdentityProvider as exc:
                raise forms.ValidationError(str(exc), code="saml_idp") from None
        return value

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "protocol": data["protocol"],
            "oidc_issuer": data["oidc_issuer"].rstrip("/"),
            "oidc_client_id": data["oidc_client_id"].strip(),
            **{name: data[name].strip() if isinstance(data[name], str) else data[name] for name in SAML_FIELDS},
            "attribute_mapping": {
                key: data[f"attr_{key}"].strip() for key in self.ATTRIBUTES if data[f"attr_{key}"].strip()
            },
            "role_mapping": data["role_mapping"],
            "default_roles": data["default_roles"] or [Role.EMPLOYEE.value],
            "session_minutes": data["session_minutes"],
            "is_enabled": data["is_enabled"],
            "sso_required": data["sso_required"],
        }


class EmailStepForm(forms.Form):
    """The first step of signing in: the address says where to go next."""

    login = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class PasswordLoginForm(LoginForm):
    """allauth's login form, with the e-mail of the first step filled in, that refuses the
    password of a member of an SSO-required organization (break-glass admins excepted), only
    once the password was right: before that every address gets the same answer, so nobody
    learns who is a member or who is break-glass."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = kwargs.get("request") or getattr(self, "request", None)
        email = request.GET.get("email", "") if request is not None else ""
        if not self.is_bound and email:
            self.fields["login"].initial = email

    def clean(self):
        cleaned = super().clean()
        user = getattr(self, "user", None)
        refusal = password_refusal(user.email) if user is not None else None
        if refusal:
            raise forms.ValidationError(refusal, code="sso_required")
        return cleaned


class SsoResetPasswordForm(ResetPasswordForm):
    """allauth's reset form: an address whose password SSO takes away gets the same answer as
    any other ("we sent you a mail") and no reset mail."""

    def save(self, request, **kwargs) -> str:
        email = self.cleaned_data["email"]
        if password_refusal(email):
            return email
        return super().save(request, **kwargs)


class SsoResetPasswordKeyForm(ResetPasswordKeyForm):
    """A reset link mailed before the organization required SSO does not set a password either."""

    def clean(self):
        user = getattr(self, "user", None)
        refusal = password_refusal(user.email) if user is not None else None
        if refusal:
            raise forms.ValidationError(refusal, code="sso_required")
        return super().clean()
