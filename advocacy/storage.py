"""Where files live: `default` (MEDIA_ROOT, content images served by `content.views.library.item_image`)
and `private` (PRIVATE_ROOT, outside every URL: compliance archives, read only through the
archive download view). A callable, so that migrations name it rather than a path."""

from django.core.files.storage import storages


def private_storage():
    return storages["private"]
