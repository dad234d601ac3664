"""Guidelines and training: versions, acceptance of the current one, lessons, who may manage them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts.models import Guideline, GuidelineAcceptance, Role, TrainingItem
from accounts.services import guidelines as services
from advocacy.errors import Conflict, NotFound, ValidationFailed
from tests.accounts.factories import (
    GuidelineAcceptanceFactory,
    GuidelineFactory,
    MembershipFactory,
    OrganizationFactory,
    TrainingItemFactory,
    acting,
)
from tests.helpers import member
from tests.helpers import org_url as url

# Every organization page: session, user, membership, org switcher, unread notifications.
LAYOUT_QUERIES = 5

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme")


def publish(org, title="Guidelines", body="Be kind.", by=None):
    return services.publish_guideline(actor=by or acting(org, Role.COMPLIANCE), title=title, body=body)


# --- publishing and accepting -------------------------------------------------------------


def test_versions_count_up_per_organization(org):
    other = OrganizationFactory()
    assert [publish(org).version, publish(org).version, publish(other).version] == [1, 2, 1]
    assert selectors.current_guideline(org).version == 2


def test_publishing_needs_a_title_and_a_text(org):
    with pytest.raises(ValidationFailed) as exc:
        publish(org, title="  ", body="")
    assert set(exc.value.fields) == {"title", "body"}
    assert not Guideline.objects.for_org(org).exists()


def test_nothing_to_accept_while_no_guideline_is_published(org):
    assert services.needs_acceptance(member(org)) is None


def test_a_member_must_accept_the_current_version(org):
    employee = member(org)
    first = publish(org)
    assert services.needs_acceptance(employee) == first
    services.accept_guidelines(actor=employee, guideline_id=first.pk)
    assert services.needs_acceptance(employee) is None
    second = publish(org, body="Be kind. Disclose your employer.")
    assert services.needs_acceptance(employee) == second


def test_accepting_is_idempotent(org):
    employee = member(org)
    guideline = publish(org)
    first = services.accept_guidelines(actor=employee, guideline_id=guideline.pk)
    again = services.accept_guidelines(actor=employee, guideline_id=guideline.pk)
    assert again.pk == first.pk and again.accepted_at == first.accepted_at
    assert GuidelineAcceptance.objects.for_org(org).count() == 1


def test_an_old_version_cannot_be_accepted(org):
    employee = member(org)
    old = publish(org)
    publish(org)
    with pytest.raises(Conflict, match="newer version"):
        services.accept_guidelines(actor=employee, guideline_id=old.pk)
    assert not GuidelineAcceptance.objects.for_org(org).exists()


def test_another_organizations_guideline_is_not_found(org):
    theirs = publish(OrganizationFactory())
    with pytest.raises(NotFound):
        services.accept_guidelines(actor=member(org), guideline_id=theirs.pk)
    with pytest.raises(NotFound):
        services.accept_guidelines(actor=member(org), guideline_id="not-a-number")


def test_acceptance_in_one_organization_does_not_count_in_another(org):
    employee = member(org)
    services.accept_guidelines(actor=employee, guideline_id=publish(org).pk)
    elsewhere = MembershipFactory(user=employee.user, organization=OrganizationFactory())
    theirs = publish(elsewhere.organization)
    assert services.needs_acceptance(elsewhere) == theirs


def test_needs_acceptance_is_one_query(org, django_assert_num_queries):
    employee = member(org)
    publish(org)
    publish(org)
    with django_assert_num_queries(1):
        assert services.needs_acceptance(employee).version == 2


def test_acceptance_list_and_summary_count_active_members_of_this_version(org):
    accepted, waiting, gone = member(org), member(org), member(org)
    officer = acting(org, Role.COMPLIANCE)
    old = publish(org, by=officer)
    services.accept_guidelines(actor=waiting, guideline_id=old.pk)  # the old version does not count for the new one
    current = publish(org, by=officer)
    for left in (gone, officer):  # members who left are not counted
        left.is_active = False
        left.save()
    services.accept_guidelines(actor=accepted, guideline_id=current.pk)
    GuidelineAcceptanceFactory(organization=org, guideline=current, user=gone.user)
    rows = list(selectors.acceptances_for(current))
    assert [(m.pk, m.accepted_at is not None) for m in rows] == [(accepted.pk, True), (waiting.pk, False)]
    assert selectors.acceptance_summary(current) == {"members": 2, "accepted": 1}
    assert {g.version: g.acceptance_count for g in selectors.guidelines_of(org)} == {1: 1, 2: 2}


# --- training items -------------------------------------------------------------------------


def test_training_items_go_last_unless_placed(org):
    first = services.create_training_item(actor=acting(org), title="Tone", body="Your words.")
    second = services.create_training_item(actor=acting(org), title="Links", body="Use ours.")
    placed = services.create_training_item(actor=acting(org), title="Start here", body="Hi.", position=0)
    assert (first.position, second.position, placed.position) == (0, 1, 0)
    assert [i.title for i in selectors.training_items_of(org)] == ["Tone", "Start here", "Links"]


def test_training_items_need_text_and_a_sane_position(org):
    with pytest.raises(ValidationFailed):
        services.create_training_item(actor=acting(org), title="", body="x")
    with pytest.raises(ValidationFailed):
        services.create_training_item(actor=acting(org), title="x", body="y", position=-1)
    item = TrainingItemFactory(organization=org)
    with pytest.raises(ValidationFailed):
        services.update_training_item(actor=acting(org), item=item, title="x", body=" ", position=1, is_published=True)
    item.refresh_from_db()
    assert item.body.strip()


def test_members_only_see_published_training_items(org):
    TrainingItemFactory(organization=org, title="Shown", is_published=True)
    TrainingItemFactory(organization=org, title="Draft", is_published=False)
    assert [i.title for i in selectors.training_items_of(org, published_only=True)] == ["Shown"]
    assert len(selectors.training_items_of(org)) == 2


def test_training_items_can_be_changed_and_deleted(org):
    item = TrainingItemFactory(organization=org, is_published=False)
    services.update_training_item(actor=acting(org), item=item, title="New", body="Text", position=3, is_published=True)
    item.refresh_from_db()
    assert (item.title, item.body, item.position, item.is_published) == ("New", "Text", 3, True)
    services.delete_training_item(actor=acting(org), item=item)
    assert not TrainingItem.objects.for_org(org).exists()


# --- pages ----------------------------------------------------------------------------------

MANAGE_PAGES = ["guidelines_manage", "training_items"]


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_only_admins_and_compliance_officers_manage_guidelines(client, org, role):
    guideline = GuidelineFactory(organization=org, version=1)
    item = TrainingItemFactory(organization=org)
    client.force_login(member(org, role).user)
    allowed = role in (Role.ADMIN, Role.COMPLIANCE)
    gets = [
        url("guidelines_manage", org),
        url("training_items", org),
        url("guideline_acceptances", org, guideline_id=guideline.pk),
        url("training_item_edit", org, training_item_id=item.pk),
    ]
    for path in gets:
        assert client.get(path).status_code == (200 if allowed else 403), path
    assert client.get(url("guidelines", org)).status_code == 200  # every member reads them


def test_an_employee_cannot_publish_or_change_training(client, org):
    item = TrainingItemFactory(organization=org, title="Keep me")
    client.force_login(member(org, Role.EMPLOYEE).user)
    response = client.post(url("guidelines_manage", org), {"title": "Mine", "body": "Anything goes."})
    assert response.status_code == 403
    assert client.post(url("training_items", org), {"title": "x", "body": "y"}).status_code == 403
    assert client.post(url("training_item_delete", org, training_item_id=item.pk)).status_code == 403
    assert not Guideline.objects.for_org(org).exists()
    assert [i.title for i in TrainingItem.objects.for_org(org)] == ["Keep me"]


def test_compliance_publishes_and_members_accept_on_the_page(client, org):
    officer = member(org, Role.COMPLIANCE)
    employee = member(org)
    client.force_login(officer.user)
    response = client.post(url("guidelines_manage", org), {"title": "Our rules", "body": "Disclose.\n\nBe kind."})
    assert response.status_code == 302
    guideline = selectors.current_guideline(org)
    assert (guideline.version, guideline.published_by) == (1, officer.user)

    client.force_login(employee.user)
    page = client.get(url("guidelines", org)).content.decode()
    assert "Our rules" in page and "<p>Be kind.</p>" in page and "accept version 1" in page
    response = client.post(url("guidelines_accept", org), {"guideline_id": guideline.pk}, follow=True)
    assert "you accepted version 1" in response.content.decode()
    assert 'data-testid="accepted"' in client.get(url("guidelines", org)).content.decode()
    assert services.needs_acceptance(employee) is None


def test_accepting_a_version_replaced_meanwhile_explains_and_records_nothing(client, org):
    employee = member(org)
    old = GuidelineFactory(organization=org, version=1)
    GuidelineFactory(organization=org, version=2)
    client.force_login(employee.user)
    response = client.post(url("guidelines_accept", org), {"guideline_id": old.pk}, follow=True)
    assert "A newer version" in response.content.decode()
    assert not GuidelineAcceptance.objects.for_org(org).exists()


def test_the_guidelines_text_is_escaped(client, org):
    GuidelineFactory(organization=org, version=1, body="<script>alert(1)</script>")
    client.force_login(member(org).user)
    page = client.get(url("guidelines", org)).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_the_page_says_when_nothing_is_published(client, org):
    client.force_login(member(org).user)
    assert "has not published guidelines yet" in client.get(url("guidelines", org)).content.decode()


def test_a_bad_publish_keeps_what_was_typed(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    response = client.post(url("guidelines_manage", org), {"title": "Draft title", "body": ""})
    assert response.status_code == 200 and "Draft title" in response.content.decode()
    assert not Guideline.objects.for_org(org).exists()


def test_the_manage_form_starts_from_the_current_text(client, org):
    GuidelineFactory(organization=org, version=4, title="Rules v4", body="Current words.")
    client.force_login(member(org, Role.ADMIN).user)
    page = client.get(url("guidelines_manage", org)).content.decode()
    assert "Current words." in page and "Publish version 5" in page


def test_acceptances_page_lists_who_accepted(client, org):
    guideline = GuidelineFactory(organization=org, version=1)
    yes, no = member(org), member(org)
    GuidelineAcceptanceFactory(organization=org, guideline=guideline, user=yes.user)
    client.force_login(member(org, Role.ADMIN).user)
    page = client.get(url("guideline_acceptances", org, guideline_id=guideline.pk)).content.decode()
    assert yes.user.email in page and no.user.email in page
    assert "<strong>1</strong> of 3 active members" in page


def test_training_items_through_the_pages(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    client.post(url("training_items", org), {"title": "Tone", "body": "Your own words.", "is_published": "on"})
    item = TrainingItem.objects.for_org(org).get()
    assert item.is_published
    edit = url("training_item_edit", org, training_item_id=item.pk)
    response = client.post(edit, {"title": "Tone of voice", "body": "Yours.", "position": "", "is_published": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.position, item.is_published) == ("Tone of voice", 0, False)
    client.post(url("training_item_delete", org, training_item_id=item.pk))
    assert not TrainingItem.objects.for_org(org).exists()


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx)


def _grow_versions(org):
    guideline = publish(org)
    GuidelineAcceptanceFactory(organization=org, guideline=guideline, user=member(org).user)


def _grow_members(org):
    guideline = selectors.current_guideline(org)
    GuidelineAcceptanceFactory(organization=org, guideline=guideline, user=member(org).user)
    member(org)


def _grow_training(org):
    TrainingItemFactory(organization=org)


@pytest.mark.parametrize(
    "page, expected, grow",
    [
        # session, user, membership, org switcher + the page's own queries
        ("guidelines", LAYOUT_QUERIES + 2, _grow_training),
        ("guidelines_manage", LAYOUT_QUERIES + 3, _grow_versions),
        ("guideline_acceptances", LAYOUT_QUERIES + 4, _grow_members),
        ("training_items", LAYOUT_QUERIES + 1, _grow_training),
    ],
)
def test_page_query_count_is_fixed_whatever_the_size(client, org, page, expected, grow):
    admin = member(org, Role.ADMIN)
    guideline = publish(org)
    services.accept_guidelines(actor=admin, guideline_id=guideline.pk)
    client.force_login(admin.user)
    kwargs = {"guideline_id": guideline.pk} if page == "guideline_acceptances" else {}
    for _ in range(2):
        grow(org)
    small = queries_for(client, url(page, org, **kwargs))
    for _ in range(12):
        grow(org)
    assert queries_for(client, url(page, org, **kwargs)) == small == expected
