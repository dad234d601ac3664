"""Writes for the marketers' content library, one module per concept: items (and their link
previews), suggestions, images, topics, feeds, proposals; `common` holds what they share.

`from content.services import library` then `library.create_item(...)` keeps working: the
public names are re-exported here.
"""

from content.services.library.announce import NEW_ITEM_PUSH_TASK, new_item_push
from content.services.library.common import FETCH_IMAGE_TASK, POLL_FEED_TASK, UNFURL_TASK
from content.services.library.feeds import (
    MAX_FEED_ENTRIES,
    add_feed,
    check_feed_now,
    poll_feed,
    set_feed_active,
)
from content.services.library.images import (
    IMAGE_ACCEPT,
    IMAGE_FORMATS,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    reencoded_image,
    request_image_fetch,
    store_remote_image,
)
from content.services.library.items import (
    EDITABLE_FIELDS,
    apply_unfurl,
    archive_item,
    bulk_archive,
    bulk_publish,
    create_item,
    publish_item,
    request_unfurl,
    unpublish_item,
    update_item,
)
from content.services.library.proposals import accept_proposal, decline_proposal, propose_content
from content.services.library.suggestions import (
    MAX_SUGGESTION_LENGTH,
    MAX_SUGGESTIONS,
    SuggestionCheck,
    SuggestionInput,
    suggestion_checks,
)
from content.services.library.topics import create_topic, follow_topic
from content.services.library.variants import (
    item_language,
    language_name,
    remove_variant,
    set_item_language,
    set_variant,
)

__all__ = [
    "EDITABLE_FIELDS",
    "FETCH_IMAGE_TASK",
    "IMAGE_ACCEPT",
    "IMAGE_FORMATS",
    "MAX_FEED_ENTRIES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_SUGGESTIONS",
    "MAX_SUGGESTION_LENGTH",
    "NEW_ITEM_PUSH_TASK",
    "POLL_FEED_TASK",
    "UNFURL_TASK",
    "SuggestionCheck",
    "SuggestionInput",
    "accept_proposal",
    "add_feed",
    "apply_unfurl",
    "archive_item",
    "bulk_archive",
    "bulk_publish",
    "check_feed_now",
    "create_item",
    "create_topic",
    "decline_proposal",
    "follow_topic",
    "item_language",
    "language_name",
    "new_item_push",
    "poll_feed",
    "propose_content",
    "publish_item",
    "reencoded_image",
    "remove_variant",
    "request_image_fetch",
    "request_unfurl",
    "set_feed_active",
    "set_item_language",
    "set_variant",
    "store_remote_image",
    "suggestion_checks",
    "unpublish_item",
    "update_item",
]
