"""REST endpoints of the policy: read it whole; read and write the lexicon.

The same selectors and services as the policy pages (`compliance.services.policy`): bad
input is refused in the API's error shape and writes nothing; every change is audited.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from advocacy.api import StrictCharField, strict_field_mapping
from advocacy.viewsets import OrgViewSet, no_content
from compliance import policy_selectors
from compliance.models import Action, LexiconTerm, PatternRule, Policy, ReviewRule
from compliance.services import policy as services


class PatternRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatternRule
        fields = ["id", "name", "pattern", "action", "note"]


class ReviewRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewRule
        fields = ["id", "team", "role", "review_mode"]


class PolicySerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(allow_null=True, help_text="null until the policy is first changed")
    term_count = serializers.IntegerField()
    patterns = PatternRuleSerializer(many=True)
    allowed_domains = serializers.ListField(child=serializers.CharField())
    review_rules = ReviewRuleSerializer(many=True)

    class Meta:
        model = Policy
        fields = [
            "review_mode",
            "auto_approve_suggestions",
            "four_eyes",
            "review_sla_hours",
            "disclosure",
            "disclosure_mode",
            "restrict_link_domains",
            "link_domain_action",
            "updated_at",
            "term_count",
            "patterns",
            "allowed_domains",
            "review_rules",
        ]


class LexiconTermSerializer(serializers.ModelSerializer):
    serializer_field_mapping = strict_field_mapping(serializers.ModelSerializer.serializer_field_mapping)
    action = serializers.ChoiceField(choices=Action.choices, default=Action.REVIEW)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = LexiconTerm
        fields = ["id", "term", "action", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"term": {"validators": []}}  # duplicates are judged by the service (normalised)


class TermImportSerializer(serializers.Serializer):
    text = StrictCharField(help_text='One term per line, or CSV lines "term,action,note".')
    default_action = serializers.ChoiceField(choices=Action.choices, default=Action.REVIEW)


class TermImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    already_there = serializers.ListField(child=serializers.CharField())


class PolicyViewSet(OrgViewSet):
    """The organization's compliance policy (read only here; the lexicon has its own endpoint)."""

    default_permission = "compliance.policy"
    serializer_class = PolicySerializer
    queryset = Policy.objects.none()  # for the schema only
    pagination_class = None

    @extend_schema(responses=PolicySerializer)
    def retrieve(self, request, *args, **kwargs):
        page = policy_selectors.policy_page(self.organization.pk)
        policy = page.policy
        policy.term_count = page.term_count
        policy.patterns = page.patterns
        policy.allowed_domains = [d.domain for d in page.domains]
        policy.review_rules = page.review_rules
        return Response(PolicySerializer(policy).data)


class LexiconTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The lexicon: list (`?q=` searches), add one, remove one, import many (all or nothing)."""

    default_permission = "compliance.policy"
    serializer_class = LexiconTermSerializer
    queryset = LexiconTerm.objects.none()  # for the schema only
    lookup_url_kwarg = "lexicon_term_id"

    def get_queryset(self):
        return policy_selectors.lexicon(self.organization.pk, self.request.query_params.get("q", "").strip())

    def create(self, request, *args, **kwargs):
        data = LexiconTermSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = services.add_term(membership=self.membership, **data.validated_data)
        return Response(LexiconTermSerializer(term).data, status=201)

    def destroy(self, request, *args, **kwargs):
        services.remove_term(membership=self.membership, lexicon_term_id=self.get_object().pk)
        return no_content()

    @extend_schema(request=TermImportSerializer, responses={201: TermImportResultSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_terms(self, request, *args, **kwargs):
        data = TermImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.import_terms(membership=self.membership, **data.validated_data)
        return Response({"added": result.added, "already_there": result.already_there}, status=201)
