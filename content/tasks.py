"""Celery wrappers for the content library: take ids, call a service.

Failures that are the outside world's (a refused address, a dead feed) are recorded on the
row by the service and end the task quietly; a bug still fails the task loudly.
"""

from celery import shared_task
from django.conf import settings
from django.utils import translation

from accounts.models import Organization
from accounts.tasks import deliver_push
from content.models import ContentFeed
from content.selectors import library as library_selectors
from content.services import library, slack
from content.unfurl import FetchFailed


def _organization_language(organization_id: int):
    """Words a worker keeps on a row for the organization's marketers (why a fetch failed) are
    in the organization's default language (issue 23), not the worker's."""
    language = Organization.objects.filter(pk=organization_id).values_list("default_language", flat=True).first()
    return translation.override(language or settings.LANGUAGE_CODE)


@shared_task(name="content.tasks.unfurl_item")
def unfurl_item(item_id: int, organization_id: int) -> str | None:
    """Fetch an item's page and fill its empty fields (status done/failed on the item)."""
    with _organization_language(organization_id):  # the reason a fetch failed, kept on the item
        item = library.apply_unfurl(item_id=item_id, organization_id=organization_id)
    return item.unfurl_status if item is not None else None


@shared_task(name="content.tasks.fetch_item_image")
def fetch_item_image(item_id: int, organization_id: int) -> bool:
    """Fetch, check and store an item's picture from its `image_url` (never hotlinked)."""
    with _organization_language(organization_id):
        item = library.store_remote_image(item_id=item_id, organization_id=organization_id)
    return bool(item is not None and item.image)


@shared_task(name="content.tasks.poll_feed")
def poll_feed(feed_id: int, organization_id: int) -> int:
    """Import one feed's new entries as drafts; a failure is recorded on the feed."""
    feed = ContentFeed.objects.for_org(organization_id).filter(pk=feed_id).first()
    if feed is None:
        return 0
    try:
        with _organization_language(organization_id):  # the failure is recorded on the feed
            return library.poll_feed(feed=feed)
    except FetchFailed:
        return 0  # recorded on the feed (`last_error`); the next scheduled poll tries again


@shared_task(name="content.tasks.poll_feeds")
def poll_feeds() -> int:
    """The schedule: one task per active feed, so one slow or broken feed never stops the others."""
    due = library_selectors.feeds_due()
    for feed_id, organization_id in due:
        poll_feed.delay(feed_id, organization_id)
    return len(due)


@shared_task(name="content.tasks.send_content_digests")
def send_content_digests():
    """The daily e-mail of new content to employees (content.digest)."""
    from content.digest import send_digests  # written alongside; imported when the task runs

    return send_digests()


@shared_task(name="content.tasks.post_featured_to_teams")
def post_featured_to_teams():
    """New featured content to the organizations' Microsoft Teams channels (content.services.teams)."""
    from content.services.teams import post_featured_to_teams as post

    return post()


# --- publishing (queue `publish`; late ack and requeue on worker loss are global) -----------


@shared_task(name="content.tasks.publish_delivery", acks_late=True)
def publish_delivery(delivery_id: int) -> str:
    """Publish one delivery if it is due and no one holds it (content.services.publishing)."""
    from content.services.publishing import publish

    return publish(delivery_id)


@shared_task(name="content.tasks.publish_deliveries", acks_late=True)
def publish_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """Publish a batch of deliveries, each exactly once (content.services.publishing.batch).
    Returns how many ended how: {"published": 7, "skipped": 1}."""
    from collections import Counter

    from content.services.publishing.batch import publish_many

    return dict(Counter(publish_many(delivery_ids).values()))


@shared_task(name="content.tasks.sweep_deliveries")
def sweep_deliveries() -> dict:
    """Every minute: enqueue due deliveries no task holds, reconcile expired leases."""
    from content.services.publishing import sweep

    return sweep()


# --- Slack (issue 22): post featured items, confirm shares made from a Slack modal -------------


@shared_task(name="content.tasks.post_to_slack", bind=True, max_retries=20)
def post_to_slack(self, organization_id: int, item_id: int) -> int:
    """Post an item's pending Slack messages; Slack's 429 brings the task back after its Retry-After."""
    run = slack.post_pending(organization_id=organization_id, item_id=item_id)
    if run.retry_after is not None:
        raise self.retry(countdown=run.retry_after)
    return run.posted


@shared_task(name="content.tasks.confirm_slack_share")
def confirm_slack_share(organization_id: int, share_id: int, slack_user: str, channel: str, ts: str) -> None:
    """Update the channel message (who shared it) and tell the person "You shared this"."""
    slack.confirm_share(
        organization_id=organization_id, share_id=share_id, slack_user=slack_user, channel=channel, ts=ts
    )


@shared_task(name="content.tasks.send_slack_round_ups")
def send_slack_round_ups() -> int:
    """The daily Slack round-ups (channels on a daily cadence, members who opted in to a DM)."""
    return sum(slack.send_round_ups(organization_id=pk) for pk in slack.installed_organizations())


@shared_task(name="content.tasks.push_new_item")
def push_new_item(item_id: int, organization_id: int) -> int:
    """ "New content for you": one push per device of the members who want it (the accounts
    task delivers each, with its own bounded retries)."""
    targets, payload = library.new_item_push(item_id=item_id, organization_id=organization_id)
    for subscription_id in targets:
        deliver_push.delay(subscription_id, organization_id, payload)
    return len(targets)
