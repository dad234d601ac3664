"""Relaxations of review wait for a second person (issue 15, finding 8): what a pending
change is, in plain words; it is not editable in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib import admin

from compliance.models import PendingPolicyChange

Kind = PendingPolicyChange.Kind


# --- plain words -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, changes, before, words",
    [
        (Kind.SETTINGS, {"four_eyes": False}, {"four_eyes": True}, "Turn four-eyes review off"),
        (
            Kind.SETTINGS,
            {"review_mode": "none", "auto_approve_suggestions": True},
            {"review_mode": "all", "auto_approve_suggestions": False},
            "Default review: from every share reviewed to no review; "
            "Let unchanged pre-approved suggestions with no findings skip review",
        ),
        (
            Kind.REVIEW_RULE_SET,
            {"team_id": 7, "team_name": "Sales", "role": "", "review_mode": "findings"},
            {"team_id": 7, "team_name": "Sales", "role": "", "review_mode": "all", "default_review_mode": "none"},
            "Review rule for team Sales: from every share reviewed to only shares with findings reviewed",
        ),
        (
            Kind.REVIEW_RULE_SET,
            {"team_id": None, "team_name": "", "role": "marketer", "review_mode": "none"},
            {"team_id": None, "team_name": "", "role": "marketer", "review_mode": None, "default_review_mode": "all"},
            "Review rule for role Marketer: from the default (every share reviewed) to no review",
        ),
        (
            Kind.REVIEW_RULE_REMOVE,
            {"team_id": 8, "team_name": "Press", "role": ""},
            {"team_id": 8, "team_name": "Press", "role": "", "review_mode": "all", "default_review_mode": "findings"},
            "Remove the review rule for team Press (every share reviewed); its members get the default "
            "(only shares with findings reviewed) or another rule",
        ),
    ],
)
def test_describe_says_the_change_in_plain_words(kind, changes, before, words):
    change = PendingPolicyChange(kind=kind, changes=changes, before=before)
    assert change.describe() == words
    assert str(change) == words


# --- Django admin ----------------------------------------------------------------------------


def test_pending_policy_changes_are_not_editable_in_the_django_admin():
    assert not admin.site.is_registered(PendingPolicyChange)
