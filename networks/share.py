"""Assisted sharing: the network's own share window, opened by the employee's browser.

Used where no app may post for the employee: a personal Facebook profile (apps lost that
right in 2018), and any network the organization has no API credentials for. The link
is always the delivery's tracked link, so clicks count either way. Pure functions.
"""

from __future__ import annotations

from urllib.parse import urlencode

from networks.base import PublishedPost

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


def post_from_link(network: str, url: str) -> PublishedPost:
    """The post a pasted link names, as publish() would record it: the network's id and the
    post's public page. No network call, so it serves where the app may not read posts (a
    personal Facebook profile, a network without API credentials). Raises PostLinkInvalid,
    with words for the employee, for anything that is not a link to one post of `network`."""
    from networks.clients import facebook, linkedin, x

    if network == "linkedin":
        urn = linkedin.post_id_from_url(url)
        return PublishedPost(remote_id=urn, url=f"{linkedin.WEB_HOST}/feed/update/{urn}")
    if network == "x":
        tweet_id = x.post_id_from_url(url)
        return PublishedPost(remote_id=tweet_id, url=f"{x.WEB_HOST}/i/web/status/{tweet_id}")
    if network == "facebook":
        post_id = facebook.post_id_from_url(url)
        return PublishedPost(remote_id=post_id, url=f"{facebook.WEB_HOST}/{post_id}")
    raise ValueError(f"unknown network {network!r}")
