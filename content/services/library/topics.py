"""Topics employees follow: their names, creation, and following one."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import ValidationFailed, conflict_on_duplicate
from content.models import Topic
from content.services.library.common import MANAGE


def _topic_names(names: Iterable[str]) -> dict[str, str]:
    """slug -> name, in the order given, one per slug."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join((raw or "").split())
        if not name:
            continue
        if len(name) > 80:
            raise ValidationFailed(
                _("The topic %(name)s… is longer than 80 characters.") % {"name": name[:40]},
                fields={"topics": [_("Too long.")]},
            )
        slug = slugify(name)[:80]
        if not slug:
            raise ValidationFailed(
                _("The topic %(name)s needs at least one letter or digit.") % {"name": f"{name!r}"},
                fields={"topics": [_("Invalid.")]},
            )
        wanted.setdefault(slug, name)
    return wanted


def _topics_named(organization: Organization | int, names: Iterable[str]) -> list[Topic]:
    """The organization's topics with these names, creating the missing ones."""
    wanted = _topic_names(names)
    if not wanted:
        return []
    org_id = organization if isinstance(organization, int) else organization.pk
    topics = Topic.objects.for_org(org_id)
    known = set(topics.filter(slug__in=wanted).values_list("slug", flat=True))
    missing = [Topic(organization_id=org_id, slug=s, name=n) for s, n in wanted.items() if s not in known]
    if missing:
        Topic.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent creation wins
    by_slug = {t.slug: t for t in topics.filter(slug__in=wanted)}
    return [by_slug[s] for s in wanted]


# --- topics -------------------------------------------------------------------------------------


@transaction.atomic
def create_topic(*, actor: Membership, name: str) -> Topic:
    """A topic employees can follow; its slug comes from the name, unique in the organization."""
    require(actor, MANAGE)
    organization = actor.organization
    wanted = _topic_names([name])
    if not wanted:
        raise ValidationFailed(_("Give the topic a name."), fields={"name": [_("Required.")]})
    slug, clean_name = next(iter(wanted.items()))
    with conflict_on_duplicate(
        _("There is already a topic called %(name)s.") % {"name": clean_name}, fields={"name": [_("Taken.")]}
    ):
        topic = Topic.objects.create(organization=organization, name=clean_name, slug=slug)
    audit.record("topic.created", organization_id=organization.pk, target=topic, after={"name": clean_name})
    return topic


@transaction.atomic
def follow_topic(*, actor: Membership, topic: Topic, follow: bool) -> Topic:
    """The employee follows the topic (its items first in their feed), or stops following it.
    Another organization's topic is DoesNotExist."""
    require(actor, Permission.FEED_USE)
    topic = Topic.objects.for_org(actor.organization_id).get(pk=topic.pk)
    if follow:
        topic.followers.add(actor)
    else:
        topic.followers.remove(actor)
    return topic
