from django.urls import path

from compliance.views import archive as archive_views
from compliance.views import archive_feed as feed_views
from compliance.views import audit as audit_views
from compliance.views import holds as hold_views
from compliance.views import policy as policy_views
from compliance.views import review
from compliance.views import supervision as supervision_views

app_name = "compliance"
urlpatterns = [
    path("review/", review.queue, name="queue"),
    path("review/bulk-approve/", review.bulk_approve, name="bulk_approve"),
    path("review/shares/<int:share_id>/", review.review_detail, name="review"),
    path("review/tasks/<int:review_task_id>/claim/", review.task_claim, name="task_claim"),
    path("review/tasks/<int:review_task_id>/assign/", review.task_assign, name="task_assign"),
    path("review/tasks/<int:review_task_id>/unassign/", review.task_unassign, name="task_unassign"),
    path("compliance/", review.dashboard, name="dashboard"),
    path("compliance/audit/", audit_views.audit_log, name="audit_log"),
    path("compliance/audit/verify/", audit_views.audit_verify, name="audit_verify"),
    path("compliance/archive/", archive_views.archive_page, name="archive"),
    path("compliance/archive/exports/", archive_views.archive_rows, name="archive_rows"),
    path("compliance/archive/retention/", archive_views.retention_update, name="archive_retention"),
    path(
        "compliance/archive/exports/<int:archive_export_id>/download/",
        archive_views.archive_download,
        name="archive_download",
    ),
    path("policy/", policy_views.policy, name="policy"),
    path("policy/patterns/", policy_views.pattern_add, name="policy_pattern_add"),
    path("policy/changes/", policy_views.changes, name="policy_changes"),
    path(
        "policy/changes/<int:pending_policy_change_id>/confirm/",
        policy_views.change_confirm,
        name="policy_change_confirm",
    ),
    path(
        "policy/changes/<int:pending_policy_change_id>/withdraw/",
        policy_views.change_withdraw,
        name="policy_change_withdraw",
    ),
    path("policy/patterns/<int:pattern_rule_id>/delete/", policy_views.pattern_delete, name="policy_pattern_delete"),
    path("policy/domains/", policy_views.domain_add, name="policy_domain_add"),
    path("policy/domains/<int:allowed_domain_id>/delete/", policy_views.domain_delete, name="policy_domain_delete"),
    path("policy/review-rules/", policy_views.review_rule_set, name="policy_review_rule_set"),
    path(
        "policy/review-rules/<int:review_rule_id>/delete/",
        policy_views.review_rule_delete,
        name="policy_review_rule_delete",
    ),
    path("policy/terms/", policy_views.terms, name="policy_terms"),
    path("policy/terms/import/", policy_views.terms_import, name="policy_terms_import"),
    path("policy/terms/<int:lexicon_term_id>/delete/", policy_views.term_delete, name="policy_term_delete"),
    path("policy/test/", policy_views.policy_test, name="policy_test"),
    path("policy/terms/<int:lexicon_term_id>/edit/", policy_views.term_edit, name="policy_term_edit"),
    path("compliance/supervision/", supervision_views.supervision, name="supervision"),
    path(
        "compliance/supervision/<int:supervision_assignment_id>/delete/",
        supervision_views.supervision_delete,
        name="supervision_delete",
    ),
    path("compliance/holds/", hold_views.hold_list, name="legal_holds"),
    path("compliance/holds/<int:legal_hold_id>/", hold_views.hold_detail, name="legal_hold"),
    path("compliance/holds/<int:legal_hold_id>/release/", hold_views.hold_release, name="legal_hold_release"),
    path("compliance/audit/search/", audit_views.audit_search, name="audit_search"),
    path("compliance/audit/search/export/", audit_views.audit_search_export, name="audit_search_export"),
    path("compliance/archive/feeds/", feed_views.feeds, name="archive_feeds"),
    path("compliance/archive/feeds/<int:archive_destination_id>/", feed_views.feed_edit, name="archive_feed_edit"),
    path(
        "compliance/archive/feeds/<int:archive_destination_id>/test/",
        feed_views.feed_test,
        name="archive_feed_test",
    ),
    path("compliance/archive/feeds/<int:archive_destination_id>/run/", feed_views.feed_run, name="archive_feed_run"),
]
