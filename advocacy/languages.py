"""Whose language a page or an e-mail is in (issue 23).

One rule (`language_for`), the same shape as the zones' (advocacy.timezones): the person's
own language (chosen in the profile, set from the browser at sign-up or from SSO/SCIM),
else their organization's default, else what the browser asks for (the switcher's cookie,
then Accept-Language), else English. `ViewerLanguageMiddleware` activates it for every
request; a text written for someone else (an e-mail a worker sends, a notification) is
rendered inside `for_recipient(...)`, which takes the recipient's language and zone, never
the sending process's. URLs carry no language: the same address serves every reader.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import Promise, lazy
from django.utils.translation import trans_real
from django.views.i18n import JavaScriptCatalog

from advocacy.timezones import zone_of_recipient

CODES = frozenset(code for code, _name in settings.LANGUAGES)


def clean_language(value: str | None) -> str:
    """A shipped language's code for `value` ("fr-CA" and "fr_ca" read "fr"), or "" when
    nothing shipped matches: "" follows the organization's default."""
    value = (value or "").strip().replace("_", "-").lower()
    if not value:
        return ""
    if value in CODES:
        return value
    base = value.split("-", 1)[0]
    return base if base in CODES else ""


def browser_language(request) -> str:
    """The language the browser asks for (the switcher's cookie, else Accept-Language), when
    it is one we ship; "" when it asks for none we ship (Django's fallback to English is not
    a choice of the person's). What sign-up and invitation acceptance give a new person."""
    if request is None or not _asks_for_one_we_ship(request):
        return ""
    return clean_language(translation.get_language_from_request(request))


def _asks_for_one_we_ship(request) -> bool:
    if clean_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        return True
    header = request.headers.get("Accept-Language", "")
    return any(clean_language(code) for code, _q in trans_real.parse_accept_lang_header(header))


def language_for(user=None, organization=None, request=None) -> str:
    """The reader's language: their own, else their organization's, else their browser's."""
    own = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
    for code in (own, getattr(organization, "default_language", "")):
        if code in CODES:
            return code
    if request is not None:
        return clean_language(translation.get_language_from_request(request)) or settings.LANGUAGE_CODE
    return settings.LANGUAGE_CODE


@contextlib.contextmanager
def for_recipient(user=None, organization=None):
    """Render a text for one person in their language and zone (an e-mail, a push)."""
    with translation.override(language_for(user, organization)), zone_of_recipient(user, organization):
        yield


def _translated(message: str, params: dict) -> str:
    text = translation.gettext(message)
    return text % params if params else text


_later = lazy(_translated, str)


def later(message: str, **params) -> Promise:
    """A text translated when it is read, not when it is written: a service that tells a
    member something (`notify(message=...)`) writes `later(gettext_noop("Your post “%(title)s”
    is live."), title=...)`, and the text is put into words inside `for_recipient(...)`, in
    the recipient's language. (gettext_noop is what makes makemessages collect the string.)"""
    return _later(message, params)


class ViewerLanguageMiddleware:
    """Activate the reader's language: from the browser first (so a 404 or the sign-in page
    speaks it), then, once OrganizationMiddleware has resolved the organization, from the
    person and the organization. The response names its language and varies on what chose it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(language_for(getattr(request, "user", None), None, request))
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language())
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            return response
        finally:
            translation.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        organization = getattr(request, "organization", None)
        translation.activate(language_for(getattr(request, "user", None), organization, request))
        return None


class ScriptCatalog(JavaScriptCatalog):
    """The browser scripts' translations (djangojs, our catalogues only, not every installed
    app's). A page asks for its own language (`?language=fr`, base.html): this URL lives
    outside /o/<org>/, where the organization's default language cannot be known."""

    domain = "djangojs"
    packages = ["advocacy"]  # LOCALE_PATHS (locale/) always come with it; no other app's catalogue

    def get(self, request, *args, **kwargs):
        code = clean_language(request.GET.get("language"))
        if not code:
            return super().get(request, *args, **kwargs)
        with translation.override(code):
            response = super().get(request, *args, **kwargs)
        # Asked by every page: the browser keeps it an hour (the words change only with a deploy).
        patch_cache_control(response, private=True, max_age=3600)
        return response
