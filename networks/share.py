"""Assisted sharing: the network's own share window, opened by the employee's browser.

Used where no app may post for the employee: a personal Facebook profile (apps lost that
right in 2018), and any network the organization has no API credentials for. The link
is always the delivery's tracked link, so clicks count either way. Pure functions.
"""

from __future__ import annotations

from urllib.parse import urlencode

REAL_ORIGINS = {
    "linkedin": "https://www.linkedin.com",
    "x": "https://twitter.com",
    "facebook": "https://www.facebook.com",
}


def share_url(
    network: str, *, link: str, text: str = "", origin: str = "", facebook_app_id: str = "", redirect_uri: str = ""
) -> str:
    """The URL of the network's share window for `link` (and `text` where it is honoured).

    LinkedIn's share-offsite takes only the URL (the employee types the words there); X's
    intent takes text and URL; Facebook's Share Dialog needs the app id (and a redirect),
    else sharer.php, which honours only `u`. `origin` replaces the real host (emulator).
    """
    if not link.startswith(("http://", "https://")):
        raise ValueError("a share link must be an absolute http(s) URL")
    base = origin or REAL_ORIGINS.get(network, "")
    if network == "linkedin":
        return f"{base}/sharing/share-offsite/?{urlencode({'url': link})}"
    if network == "x":
        return f"{base}/intent/tweet?{urlencode({'text': text, 'url': link} if text else {'url': link})}"
    if network == "facebook":
        if facebook_app_id:
            params = {"app_id": facebook_app_id, "display": "page", "href": link}
            if redirect_uri:
                params["redirect_uri"] = redirect_uri
            return f"{base}/dialog/share?{urlencode(params)}"
        return f"{base}/sharer/sharer.php?{urlencode({'u': link})}"
    raise ValueError(f"unknown network {network!r}")
