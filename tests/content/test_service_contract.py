"""The content app's service contract: every write takes `actor` keyword-only and checks the
permission map inside the service; a wrong role is PermissionDenied and writes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Role
from content.services import held, library, sharing
from content.services.library import common, feeds, images, items, proposals, suggestions, topics, variants
from content.services.publishing import actions, batch, engine
from tests.accounts.factories import MembershipFactory
from tests.content.factories import (
    ContentFeedFactory,
    ContentItemFactory,
    ContentProposalFactory,
    ContentVariantFactory,
    ShareFactory,
    TopicFactory,
)
from tests.service_contract import database_snapshot, public_functions, takes_actor

# Every public function of the content services, sorted into writes on behalf of a person
# (actor + permission), system operations (workers, schedules: no person) and pure helpers or
# reads. A new function must land in one of them.
WRITES = {
    items: {
        "create_item",
        "update_item",
        "publish_item",
        "unpublish_item",
        "archive_item",
        "bulk_publish",
        "bulk_archive",
        "request_unfurl",
    },
    topics: {"create_topic", "follow_topic"},
    feeds: {"add_feed", "set_feed_active", "check_feed_now"},
    proposals: {"propose_content", "accept_proposal", "decline_proposal"},
    sharing: {"submit_share", "edit_share", "cancel_share", "confirm_assisted_share"},
    actions: {"retry_delivery", "delete_published_share", "attach_post_link"},
    held: {"release_held_share", "cancel_held_share"},
    variants: {"set_variant", "remove_variant", "set_item_language"},
}
SYSTEM = {
    items: {"apply_unfurl"},
    images: {"store_remote_image", "request_image_fetch"},
    feeds: {"poll_feed"},
    actions: {"lock_own_delivery", "refuse_attached_elsewhere"},  # helpers of the writes above
    sharing: {"return_to_review", "record_decision", "with_assisted_actions", "cancel_with_deliveries"},
    held: {"hold_shares_of_member"},  # accounts' suspension hook (accounts.hooks.member_suspended)
    engine: {
        "publish",
        "roll_up",
        "roll_up_many",
        "start_publishing",
    },  # the publish tasks (roll_up_many: the batch's record)
    batch: {"publish_many"},
}
PURE_OR_READS = {
    common: {"enqueue_after_commit"},
    images: {"reencoded_image"},
    suggestions: {"suggestion_checks"},
    variants: {"item_language", "language_name"},
    engine: {
        "can_retry",
        "claim_of",
        "locate_many",
        "backoff",
        "delivery_statuses",
        "not_sendable",
        "set_published",
        "published_after",
        "holds_lease",
        "app_id_of",  # the rate limiter's name for an app (the claim's slots)
        "call_slot",  # one of the process's slots for network calls (PUBLISH_CALLS_IN_FLIGHT)
        "call_pool",  # the process's threads for the batches' calls, one per slot
        "authors_active",  # reads that lock the rows until the caller's commit (a claim's, a record's)
        "lock_shares",
        "lock_deliveries",
    },
    sharing: {
        "targets_for",
        "preselected_targets",
        "pick_suggestion",
        "unchanged_suggestion",
        "network_suggestions",
        "next_allowed_time",
        "shares_left_on",
        "shares_left_today",
        "sharing_gates",
        "when_words",
        "tracked_url",
        "final_text",
        "sample_link",
        "preview_of",
        "clean_network_texts",
        "words_for",
        "length_sentence",
        "text_checks",
        "post_texts",
        "posting_hours_words",
        "assisted_copy_text",
        "assisted_window_text",
        "assisted_share_url",
        "submit_fingerprint",
    },
}
MODULES = (
    common,
    feeds,
    images,
    items,
    proposals,
    suggestions,
    topics,
    sharing,
    actions,
    held,
    variants,
    engine,
    batch,
)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_function_is_sorted_and_every_write_takes_an_actor(module):
    writes = WRITES.get(module, set())
    sorted_out = writes | SYSTEM.get(module, set()) | PURE_OR_READS.get(module, set())
    assert set(public_functions(module)) == sorted_out, "sort the new function into WRITES, SYSTEM or PURE_OR_READS"
    assert [name for name in sorted(writes) if not takes_actor(getattr(module, name))] == []


def test_system_operations_say_so():
    documented = [(module, name) for module in (items, images, feeds) for name in SYSTEM[module]]
    assert [name for module, name in documented if "System" not in (getattr(module, name).__doc__ or "")] == []


@pytest.fixture
def subjects(db):
    marketer = MembershipFactory(roles=[Role.MARKETER])
    org = marketer.organization
    employee = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    return {
        "org": org,
        "marketer": marketer,
        "employee": employee,
        "inactive": MembershipFactory(organization=org, roles=[Role.EMPLOYEE], is_active=False),
        "item": ContentItemFactory(organization=org),
        "topic": TopicFactory(organization=org),
        "feed": ContentFeedFactory(organization=org),
        "proposal": ContentProposalFactory(organization=org),
        "share": ShareFactory(organization=org, author=employee.user),
        "variant": ContentVariantFactory(organization=org, item__organization=org),
    }


# (write, the wrong actor, its arguments but the actor)
CALLS = [
    (library.create_item, "employee", lambda s: {"url": "https://acme.example/x", "title": "X"}),
    (library.update_item, "employee", lambda s: {"item": s["item"], "title": "Changed"}),
    (library.publish_item, "employee", lambda s: {"item": s["item"]}),
    (library.unpublish_item, "employee", lambda s: {"item": s["item"]}),
    (library.archive_item, "employee", lambda s: {"item": s["item"]}),
    (library.bulk_publish, "employee", lambda s: {"item_ids": [s["item"].pk]}),
    (library.bulk_archive, "employee", lambda s: {"item_ids": [s["item"].pk]}),
    (library.request_unfurl, "employee", lambda s: {"item": s["item"]}),
    (library.create_topic, "employee", lambda s: {"name": "Hiring"}),
    (library.follow_topic, "marketer", lambda s: {"topic": s["topic"], "follow": True}),
    (library.add_feed, "employee", lambda s: {"url": "https://acme.example/rss.xml"}),
    (library.set_feed_active, "employee", lambda s: {"feed": s["feed"], "active": False}),
    (library.check_feed_now, "employee", lambda s: {"feed": s["feed"]}),
    (library.propose_content, "inactive", lambda s: {"url": "https://acme.example/y"}),
    (library.accept_proposal, "employee", lambda s: {"proposal": s["proposal"]}),
    (library.decline_proposal, "employee", lambda s: {"proposal": s["proposal"]}),
    (
        sharing.submit_share,
        "marketer",
        lambda s: {"item_id": s["item"].pk, "commentary": "Proud!", "target_keys": ["linkedin"]},
    ),
    (sharing.edit_share, "marketer", lambda s: {"share_id": s["share"].pk, "commentary": "New words"}),
    (sharing.cancel_share, "marketer", lambda s: {"share_id": s["share"].pk}),
    (sharing.confirm_assisted_share, "marketer", lambda s: {"delivery_id": 1, "url": ""}),
    (actions.retry_delivery, "marketer", lambda s: {"delivery_id": 1}),
    (actions.delete_published_share, "marketer", lambda s: {"share_id": s["share"].pk}),
    (actions.attach_post_link, "marketer", lambda s: {"delivery_id": 1, "url": "https://x.com/a/status/1"}),
    (held.release_held_share, "marketer", lambda s: {"share_id": s["share"].pk}),
    (held.cancel_held_share, "marketer", lambda s: {"share_id": s["share"].pk}),
    (library.set_variant, "employee", lambda s: {"item": s["item"], "language": "fr", "title": "Titre"}),
    (library.remove_variant, "employee", lambda s: {"variant": s["variant"]}),
    (library.set_item_language, "employee", lambda s: {"item": s["item"], "language": "de"}),
]


def test_the_calls_cover_every_write():
    assert {write.__name__ for write, _role, _args in CALLS} == set().union(*WRITES.values())


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(("write", "wrong", "arguments"), CALLS, ids=[c[0].__name__ for c in CALLS])
def test_a_wrong_role_is_refused_and_nothing_changes(
    subjects, write, wrong, arguments, django_capture_on_commit_callbacks
):
    before = database_snapshot()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(PermissionDenied):
        write(actor=subjects[wrong], **arguments(subjects))
    assert database_snapshot() == before and callbacks == []


def test_the_services_enqueue_registered_task_names():
    from advocacy.celery import app
    from content import tasks  # noqa: F401  (registers the tasks)

    assert {library.UNFURL_TASK, library.FETCH_IMAGE_TASK, library.POLL_FEED_TASK} <= set(app.tasks)
