"""The marketers' content library pages, included in the `content` namespace under /o/<org_slug>/.

Object kwargs are named `<model>_id` (the isolation walk relies on it).
"""

from django.urls import path

from content.views import library, variants

item = "library/items/<int:content_item_id>/"
feed = "library/feeds/<int:content_feed_id>/"
proposal = "library/proposals/<int:content_proposal_id>/"
variant = "library/variants/<int:content_variant_id>/"

urlpatterns = [
    path("library/", library.library, name="library"),
    path("library/new/", library.library_item_new, name="library_item_new"),
    path("library/bulk/", library.library_bulk, name="library_bulk"),
    path("library/preview/", library.library_preview, name="library_preview"),
    path("library/suggestions/row/", library.library_suggestion_row, name="library_suggestion_row"),
    path("library/suggestions/check/", library.library_suggestion_check, name="library_suggestion_check"),
    path(item, library.library_item, name="library_item"),
    path(f"{item}unfurl/", library.library_item_unfurl, name="library_item_unfurl"),
    path(f"{item}publish/", library.library_item_publish, name="library_item_publish"),
    path(f"{item}unpublish/", library.library_item_unpublish, name="library_item_unpublish"),
    path(f"{item}archive/", library.library_item_archive, name="library_item_archive"),
    path(f"{item}language/", variants.library_item_language, name="library_item_language"),
    path(f"{item}variant/", variants.library_item_variant, name="library_item_variant"),
    path(f"{variant}remove/", variants.library_variant_remove, name="library_variant_remove"),
    path("library/feeds/", library.library_feeds, name="library_feeds"),
    path(f"{feed}poll/", library.library_feed_poll, name="library_feed_poll"),
    path(f"{feed}toggle/", library.library_feed_toggle, name="library_feed_toggle"),
    path("library/proposals/", library.library_proposals, name="library_proposals"),
    path(f"{proposal}accept/", library.library_proposal_accept, name="library_proposal_accept"),
    path(f"{proposal}decline/", library.library_proposal_decline, name="library_proposal_decline"),
    path("propose/", library.propose_content, name="propose_content"),
]
