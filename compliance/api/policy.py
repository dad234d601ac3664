"""REST endpoints of the policy: read it whole; read and write the lexicon; confirm or
withdraw the relaxations waiting for a second person.

The same selectors and services as the policy pages (`compliance.services.policy`): bad
input is refused in the API's error shape and writes nothing; every change is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.permissions import Permission
from advocacy.api import StrictCharField, strict_field_mapping
from advocacy.viewsets import OrgViewSet, no_content
from compliance.engine import MAX_DISTANCE
from compliance.models import Action, LexiconTerm, PatternRule, PendingPolicyChange, Policy, ReviewRule
from compliance.selectors import policy as policy_selectors
from compliance.services import policy as services
from compliance.services.screening import check_text


class PatternRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatternRule
        fields = ["id", "name", "pattern", "action", "note"]


class ReviewRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewRule
        fields = ["id", "team", "role", "review_mode"]


class PendingPolicyChangeSerializer(serializers.ModelSerializer):
    description = serializers.CharField(source="describe", read_only=True, help_text=_("The change in plain words."))
    requested_by = serializers.EmailField(source="requested_by.email", read_only=True, default=None)

    class Meta:
        model = PendingPolicyChange
        fields = ["id", "kind", "description", "requested_by", "created_at"]


class DecidedPolicyChangeSerializer(PendingPolicyChangeSerializer):
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, default=None)

    class Meta(PendingPolicyChangeSerializer.Meta):
        fields = [*PendingPolicyChangeSerializer.Meta.fields, "outcome", "decided_by", "decided_at"]


class PolicySerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(allow_null=True, help_text=_("null until the policy is first changed"))
    term_count = serializers.IntegerField()
    patterns = PatternRuleSerializer(many=True)
    allowed_domains = serializers.ListField(child=serializers.CharField())
    review_rules = ReviewRuleSerializer(many=True)
    pending_changes = PendingPolicyChangeSerializer(
        many=True, help_text=_("Relaxations waiting for another compliance officer or an org admin to confirm them.")
    )

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
            "pending_changes",
        ]


class LexiconTermSerializer(serializers.ModelSerializer):
    serializer_field_mapping = strict_field_mapping(serializers.ModelSerializer.serializer_field_mapping)
    action = serializers.ChoiceField(choices=Action.choices, default=Action.REVIEW)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    match = serializers.ChoiceField(
        choices=LexiconTerm.Match.choices,
        required=False,
        default="",
        help_text=_('"inflections" (default; "wildcard" when the term has a *), "exact" or "wildcard".'),
    )
    language = serializers.ChoiceField(choices=LexiconTerm.Language.choices, required=False, default="en")
    applies_to = serializers.ChoiceField(
        choices=[("", _("every language")), *settings.LANGUAGES],
        required=False,
        allow_blank=True,
        default="",
        help_text=_('The language of the posts it screens: "fr", "de"... or "" for every post.'),
    )
    near = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", help_text=_("Only within a few words of this.")
    )
    near_distance = serializers.IntegerField(min_value=1, max_value=MAX_DISTANCE, required=False, default=5)
    exceptions = serializers.ListField(
        child=StrictCharField(max_length=200),
        required=False,
        default=list,
        max_length=services.MAX_EXCEPTIONS,
        help_text=_("Phrases that allow the term where they contain it."),
    )

    class Meta:
        model = LexiconTerm
        fields = [
            "id", "term", "action", "note", "match", "language", "near", "near_distance", "exceptions", "created_at",
            "applies_to",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"term": {"validators": []}}  # duplicates are judged by the service (normalised)


class LexiconTermUpdateSerializer(LexiconTermSerializer):
    class Meta(LexiconTermSerializer.Meta):
        read_only_fields = ["id", "term", "created_at"]


class TermTestSerializer(serializers.Serializer):
    text = StrictCharField(max_length=10_000, help_text=_("A text to screen; nothing is saved."))


class ExplanationSerializer(serializers.Serializer):
    rule = serializers.CharField()
    action = serializers.CharField()
    matched = serializers.CharField(help_text=_("The words of the text that matched."))
    reasons = serializers.ListField(child=serializers.CharField(), help_text=_("Why, in words."))
    allowed_by = serializers.CharField(help_text=_("The exception that allows it; empty when it is a finding."))


class TextCheckSerializer(serializers.Serializer):
    explanations = ExplanationSerializer(many=True, help_text=_("Each rule that matched, and why."))


class TermImportSerializer(serializers.Serializer):
    text = StrictCharField(help_text=_('One term per line, or CSV lines "term,action,note".'))
    default_action = serializers.ChoiceField(choices=Action.choices, default=Action.REVIEW)


class TermImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    already_there = serializers.ListField(child=serializers.CharField())


class PolicyViewSet(OrgViewSet):
    """The organization's compliance policy (read only here; the lexicon has its own endpoint)."""

    default_permission = Permission.COMPLIANCE_POLICY
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
        policy.pending_changes = page.pending_changes
        return Response(PolicySerializer(policy).data)


class PendingPolicyChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Relaxations of review waiting for a second person. Another compliance officer or an
    org admin confirms one (never the person who asked: 403); the requester, another officer
    or an admin withdraws it. A change whose rule or settings changed since it was asked
    answers 409 and nothing is applied. Decided or another organization's changes are 404."""

    default_permission = Permission.COMPLIANCE_POLICY_CONFIRM
    serializer_class = PendingPolicyChangeSerializer
    queryset = PendingPolicyChange.objects.none()  # for the schema only
    lookup_url_kwarg = "pending_policy_change_id"

    def get_queryset(self):
        return policy_selectors.pending_changes(self.organization.pk)

    @extend_schema(request=None, responses=DecidedPolicyChangeSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, *args, **kwargs):
        change = services.confirm_policy_change(actor=self.membership, change_id=self.get_object().pk)
        return Response(DecidedPolicyChangeSerializer(change).data)

    @extend_schema(request=None, responses=DecidedPolicyChangeSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        change = services.withdraw_policy_change(actor=self.membership, change_id=self.get_object().pk)
        return Response(DecidedPolicyChangeSerializer(change).data)


class LexiconTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The lexicon: list (`?q=` searches), add one, change one, remove one, import many (all or
    nothing), test a text. JSON bodies only (a form's repeated keys cannot say a list)."""

    default_permission = Permission.COMPLIANCE_POLICY
    parser_classes = [JSONParser]
    serializer_class = LexiconTermSerializer
    queryset = LexiconTerm.objects.none()  # for the schema only
    lookup_url_kwarg = "lexicon_term_id"

    def get_queryset(self):
        return policy_selectors.lexicon(self.organization.pk, self.request.query_params.get("q", "").strip())

    def create(self, request, *args, **kwargs):
        data = LexiconTermSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = services.add_term(actor=self.membership, **data.validated_data)
        return Response(LexiconTermSerializer(term).data, status=201)

    @extend_schema(
        request=LexiconTermUpdateSerializer,
        responses={200: LexiconTermSerializer, 202: PendingPolicyChangeSerializer},
    )
    def update(self, request, *args, **kwargs):
        """Change how a term matches (its words stay). A relaxation answers 202 with the
        pending change another officer or an org admin confirms."""
        term = self.get_object()
        data = LexiconTermUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.update_term(actor=self.membership, lexicon_term_id=term.pk, **data.validated_data)
        if isinstance(result, PendingPolicyChange):
            return Response(PendingPolicyChangeSerializer(result).data, status=202)
        return Response(LexiconTermSerializer(result).data)

    @extend_schema(request=TermTestSerializer, responses=TextCheckSerializer)
    @action(detail=False, methods=["post"], url_path="test")
    def test_text(self, request, *args, **kwargs):
        """What the policy would flag in a text, and why (exceptions that allow a match too)."""
        data = TermTestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = check_text(organization_id=self.organization.pk, text=data.validated_data["text"])
        return Response(TextCheckSerializer(check).data)

    def destroy(self, request, *args, **kwargs):
        services.remove_term(actor=self.membership, lexicon_term_id=self.get_object().pk)
        return no_content()

    @extend_schema(request=TermImportSerializer, responses={201: TermImportResultSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_terms(self, request, *args, **kwargs):
        data = TermImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.import_terms(actor=self.membership, **data.validated_data)
        return Response({"added": result.added, "already_there": result.already_there}, status=201)
