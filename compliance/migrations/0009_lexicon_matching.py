from django.db import migrations, models

MATCH_CHOICES = [
    ("inflections", "The word and its other forms (guarantee, guarantees, guaranteed)"),
    ("exact", "Exactly as written"),
    ("wildcard", "With wildcards (guarant* or *vest*)"),
]


class Migration(migrations.Migration):
    """Lexicon terms say how they match. Terms saved before keep matching exactly as they
    did (whole words as written): a policy changes only through an audited edit; new terms
    match their inflections by default."""

    dependencies = [
        ("compliance", "0008_pending_policy_change_kind_before"),
    ]

    operations = [
        migrations.AddField(
            model_name="lexiconterm",
            name="match",
            field=models.CharField(
                choices=MATCH_CHOICES,
                default="exact",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="lexiconterm",
            name="match",
            field=models.CharField(
                choices=MATCH_CHOICES,
                default="inflections",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="lexiconterm",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish")],
                default="en",
                help_text="Whose word forms count.",
                max_length=5,
            ),
        ),
        migrations.AddField(
            model_name="lexiconterm",
            name="near",
            field=models.CharField(
                blank=True, help_text="Only when this word or phrase is close by (empty: anywhere).", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="lexiconterm",
            name="near_distance",
            field=models.PositiveSmallIntegerField(default=5, help_text="How many words apart, at most."),
        ),
        migrations.AddField(
            model_name="lexiconterm",
            name="exceptions",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Phrases that allow the term where they contain it (“not guaranteed”).",
            ),
        ),
        migrations.AlterField(
            model_name="pendingpolicychange",
            name="kind",
            field=models.CharField(
                choices=[
                    ("settings", "Policy settings"),
                    ("review_rule_set", "Set a review rule"),
                    ("review_rule_remove", "Remove a review rule"),
                    ("term_update", "Change a lexicon term"),
                ],
                default="settings",
                max_length=20,
            ),
        ),
    ]
