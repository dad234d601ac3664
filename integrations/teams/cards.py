"""Adaptive Cards for Teams channel posts, in the envelope a workflow webhook expects.

The envelope (Microsoft's "Send Adaptive Cards using an incoming webhook"): `type` must be
"message", `attachments` a list of cards, each with `contentType`
"application/vnd.microsoft.card.adaptive" and the card itself in `content`. Teams renders
Adaptive Cards up to schema 1.5; `Action.OpenUrl` is supported, `Action.Submit` is not.
"""

from __future__ import annotations

from typing import Any

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
SUMMARY_MAX = 600


def article_card(
    *, title: str, summary: str = "", image_url: str = "", open_url: str, action_title: str, context: str = ""
) -> dict[str, Any]:
    """A card for one piece of content: a heading, a context line, the image when there is
    one, the summary (shortened), and one button that opens `open_url` in the browser."""
    body: list[dict[str, Any]] = []
    if context:
        body.append({"type": "TextBlock", "text": context, "isSubtle": True, "size": "Small", "wrap": True})
    body.append({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Large", "wrap": True})
    if image_url:
        body.append({"type": "Image", "url": image_url, "size": "Stretch", "altText": title})
    if summary:
        short = summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1].rstrip() + "…"
        body.append({"type": "TextBlock", "text": short, "wrap": True})
    return {
        "$schema": SCHEMA_URL,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": action_title, "url": open_url}],
    }


def message(*cards: dict[str, Any]) -> dict[str, Any]:
    """The webhook's message envelope around one or more cards."""
    return {
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": card} for card in cards],
    }
