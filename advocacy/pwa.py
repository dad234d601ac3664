"""The installable app (PWA): the web app manifest, the service worker at the site's root
scope and the page it shows when the network is gone.

The service worker (templates/pwa/sw.js) caches the app shell only: the CSS, the scripts,
the icons and the offline page, none of which carries anything of a user. Pages (HTML
navigations) always go to the network and are never put in a cache, so one user's signed-in
page can never be served to another user of the same browser; when the network fails, the
cached offline page is shown instead. Nothing else (the API, forms, images of content) is
touched by the worker.
"""

from __future__ import annotations

import hashlib
import json

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

THEME_COLOUR = "#14263f"
BACKGROUND_COLOUR = "#ffffff"
SHELL = ["css/app.css", "js/app.js", "js/menu.js", "js/pwa.js", "favicon.svg", "icons/icon-192.png"]


def shell_urls() -> list[str]:
    return ["/offline/", *(static(name) for name in SHELL)]


@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request):
    """The web app manifest: what a phone needs to install the site as an app, and the
    share target that brings a page shared from the phone's share sheet into a proposal."""
    data = {
        "id": "/",
        "name": "Advocacy",
        "short_name": "Advocacy",
        "description": _("Share your company's news from your own accounts."),
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        # GET: the share sheet only opens a pre-filled proposal form; the employee sends it
        # with the form's CSRF token. A POST from the OS would carry no token (see share_target).
        "share_target": {
            "action": "/share/",
            "method": "GET",
            "enctype": "application/x-www-form-urlencoded",  # GET ignores it; Chromium warns without it
            "params": {"title": "title", "text": "text", "url": "url"},
        },
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
def service_worker(request):
    """The service worker, at the root so that its scope is the whole site. Browsers check
    it for updates on every navigation (no-cache); its cache name changes with the shell."""
    urls = shell_urls()
    version = hashlib.sha256("\n".join(urls).encode()).hexdigest()[:12]
    script = render_to_string(
        "pwa/sw.js", {"shell": json.dumps(urls), "version": version, "icon": static("icons/icon-192.png")}
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request):
    """What the service worker shows when a page cannot be loaded: the same for everyone,
    nothing of a user in it (no request context: it is cached)."""
    return HttpResponse(render_to_string("pwa/offline.html"))
