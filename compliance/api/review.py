"""REST endpoints for the review queue: list the waiting shares, read one, decide on it.

The same selectors and services as the pages: the decision goes through
`compliance.services.review.decide` (locks, four-eyes, comment rules, publishing).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Network
from accounts.permissions import Permission
from advocacy.api import StrictCharField
from advocacy.viewsets import OrgViewSet
from compliance import selectors
from compliance.models import Decision, ReviewTask
from compliance.services import review as review_services


class ReviewTaskSerializer(serializers.ModelSerializer):
    share = serializers.IntegerField(source="share_id", read_only=True)
    item = serializers.IntegerField(source="share.item_id", read_only=True)
    item_title = serializers.CharField(source="share.item.title", read_only=True)
    author = serializers.EmailField(source="share.author.email", read_only=True)
    commentary = serializers.CharField(source="share.commentary", read_only=True)
    version = serializers.IntegerField(source="share.version", read_only=True)
    assigned_to = serializers.EmailField(source="assigned_to.email", read_only=True, default=None, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)
    is_mine = serializers.BooleanField(read_only=True, help_text=_("You are one of its supervisors."))

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "share",
            "item",
            "item_title",
            "author",
            "commentary",
            "version",
            "team",
            "worst_action",
            "networks",
            "opened_at",
            "due_at",
            "is_overdue",
            "escalated_at",
            "is_mine",
            "assigned_to",
        ]


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.EmailField(source="reviewer.email", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Decision
        fields = ["id", "share", "version", "outcome", "reviewer", "comment", "text_hashes", "decided_at"]


class ReviewTaskDetailSerializer(ReviewTaskSerializer):
    findings = serializers.SerializerMethodField(help_text=_("network -> findings of the latest screening"))
    texts = serializers.SerializerMethodField(help_text=_("network -> the exact text screened"))
    versions = serializers.SerializerMethodField()
    diff_against_suggestion = serializers.SerializerMethodField(help_text=_("[[kind, text]], kind equal/insert/delete"))
    diff_against_previous = serializers.SerializerMethodField()
    decisions = serializers.SerializerMethodField()

    class Meta(ReviewTaskSerializer.Meta):
        fields = [
            *ReviewTaskSerializer.Meta.fields,
            "findings",
            "texts",
            "versions",
            "diff_against_suggestion",
            "diff_against_previous",
            "decisions",
        ]

    def _review(self, obj):
        return self.context["review"]

    def get_findings(self, obj) -> dict:
        screening = self._review(obj).screening
        return screening.findings if screening else {}

    def get_texts(self, obj) -> dict:
        screening = self._review(obj).screening
        return screening.texts if screening else {}

    def get_versions(self, obj) -> list[dict]:
        return [
            {"number": v.number, "commentary": v.commentary, "created_at": v.created_at}
            for v in self._review(obj).versions
        ]

    def get_diff_against_suggestion(self, obj) -> list[list[str]] | None:
        diff = self._review(obj).diff_suggestion
        return None if diff is None else [[s.kind, s.text] for s in diff]

    def get_diff_against_previous(self, obj) -> list[list[str]] | None:
        diff = self._review(obj).diff_previous
        return None if diff is None else [[s.kind, s.text] for s in diff]

    def get_decisions(self, obj) -> list[dict]:
        return DecisionSerializer(self._review(obj).decisions, many=True).data


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    comment = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    version = serializers.IntegerField(
        min_value=1, help_text=_("The version you reviewed; a newer one answers 409 and nothing is decided.")
    )


class QueueFilterSerializer(serializers.Serializer):
    """The queue's filters, checked: the page drops a bad value, the API says so (400)."""

    team = serializers.IntegerField(required=False, help_text=_("team id"))
    network = serializers.ChoiceField(choices=Network.choices, required=False)
    age = serializers.IntegerField(
        required=False, min_value=0, max_value=selectors.MAX_AGE_HOURS, help_text=_("waiting at least this many hours")
    )
    severity = serializers.ChoiceField(choices=[c for c, _label in selectors.SEVERITY_CHOICES if c], required=False)
    assigned = serializers.ChoiceField(choices=[c for c, _label in selectors.ASSIGNED_CHOICES if c], required=False)


class ReviewTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The review queue: shares waiting for a compliance decision, the ones you supervise
    first, then soonest deadline first."""

    serializer_class = ReviewTaskSerializer
    queryset = ReviewTask.objects.none()  # for the schema only
    lookup_url_kwarg = "review_task_id"
    default_permission = Permission.COMPLIANCE_REVIEW

    def get_queryset(self):
        if self.action == "list":
            # a plain dict: an empty value is refused, not read as "no filter" the way a form's is
            params = QueueFilterSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            v = params.validated_data
            filters = selectors.QueueFilters(
                team=v.get("team"),
                network=v.get("network", ""),
                age_hours=v.get("age"),
                severity=v.get("severity", ""),
                assigned=v.get("assigned", ""),
            )
            return selectors.with_row_relations(
                selectors.review_queue(self.organization, filters, user_id=self.request.user.pk)
            )
        # one task, waiting or not: a decided one shows its history, and deciding it again
        # answers 409 with who decided, not 404
        return selectors.review_tasks(self.organization, user_id=self.request.user.pk)

    @extend_schema(parameters=[QueueFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=ReviewTaskDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        review = selectors.review_for(self.organization, task.share_id)
        return Response(ReviewTaskDetailSerializer(task, context={"review": review}).data)

    @extend_schema(request=DecideSerializer, responses={201: DecisionSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs):
        task = self.get_object()
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = review_services.decide(
            actor=self.membership,
            share_id=task.share_id,
            outcome=data.validated_data["outcome"],
            comment=data.validated_data["comment"],
            version=data.validated_data["version"],
        )
        return Response(DecisionSerializer(decision).data, status=201)
