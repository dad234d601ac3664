"""The extra field of allauth's sign-up form (ACCOUNT_SIGNUP_FORM_CLASS): the browser's zone.

Kept apart from accounts.forms because allauth imports it while building its own forms.
"""

from django import forms

from advocacy.timezones import clean_browser_zone


def browser_zone_field() -> forms.CharField:
    """A hidden field that static/js/app.js fills with the browser's zone (Intl API). Never
    an error: an unknown or missing zone reads "" (the organization's zone is used)."""
    return forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-browser-zone": ""}))


class SignupZoneForm(forms.Form):
    timezone = browser_zone_field()

    def clean_timezone(self) -> str:
        return clean_browser_zone(self.cleaned_data.get("timezone"))

    def signup(self, request, user) -> None:
        """allauth calls it once the new user is saved."""
        if self.cleaned_data.get("timezone"):
            user.timezone = self.cleaned_data["timezone"]
            user.save(update_fields=["timezone"])
