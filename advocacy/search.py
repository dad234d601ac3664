"""PostgreSQL full-text search shared by the apps (issue 19, item 4).

Searchable rows keep their words in a stored, generated `tsvector` column with a GIN index
(`search_vector_field`), so a search reads the index and never recomputes a vector. The
column holds the stems of every shipped language (English, French, German, Spanish) plus
the words as written (the `simple` configuration): whatever configuration a search is run
with (`config_for(language)`), the row's words were stemmed the same way, so "guarantee"
finds "guaranteed" under `english`, and a word no dictionary knows still matches as written.

The organization has no language of its own yet: a search uses the deployment's
LANGUAGE_CODE (`search_config`), mapped to its regconfig, `simple` for any other language.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import (
    CombinedSearchVector,
    SearchConfig,
    SearchQuery,
    SearchVector,
    SearchVectorField,
)
from django.db import models
from django.db.models import F, Func, JSONField, TextField, Value
from django.db.models.functions import Cast, Coalesce

# The shipped languages (DESIGN.md: English, French, German, Spanish) -> PostgreSQL's configurations.
LANGUAGE_CONFIGS = {"en": "english", "fr": "french", "de": "german", "es": "spanish"}
FALLBACK_CONFIG = "simple"
STORED_CONFIGS = (*LANGUAGE_CONFIGS.values(), FALLBACK_CONFIG)


def config_for(language: str | None) -> str:
    """The regconfig for a language code ("fr", "fr-ca", "en-us"); `simple` for one we do not ship."""
    base = (language or "").lower().replace("_", "-").split("-")[0]
    return LANGUAGE_CONFIGS.get(base, FALLBACK_CONFIG)


def search_config(organization=None) -> str:
    """The configuration a search in `organization` runs with: its language when it has one,
    else the deployment's."""
    return config_for(getattr(organization, "language", "") or settings.LANGUAGE_CODE)


def words_of(column: str, *, blank: str = "") -> Func:
    """`column` with the characters in `blank` read as spaces ("share.sent_back" -> three
    words), for codes and e-mail addresses the text parser would keep whole."""
    return Func(F(column), Value(blank), Value(" " * len(blank)), function="translate", output_field=TextField())


def search_vector_expression(*texts, jsonb: tuple[str, ...] = ()):
    """A tsvector over text expressions or column names `texts` and the string values of the
    jsonb columns `jsonb`, stemmed by every stored configuration. Only immutable functions with
    constant configurations, as a generated column requires."""
    vector = None
    for config in STORED_CONFIGS:
        parts = [SearchVector(*texts, config=config)] if texts else []
        parts += [
            Func(
                SearchConfig(config),
                Coalesce(F(column), Cast(Value("{}"), JSONField())),
                Cast(Value('["string"]'), JSONField()),
                function="jsonb_to_tsvector",
                output_field=SearchVectorField(),
            )
            for column in jsonb
        ]
        for part in parts:
            vector = part if vector is None else CombinedSearchVector(vector, "||", part, SearchConfig(config))
    return vector


def search_vector_field(*texts, jsonb: tuple[str, ...] = ()) -> models.GeneratedField:
    """A stored generated column holding `search_vector_expression(...)` (index it with GinIndex)."""
    return models.GeneratedField(
        expression=search_vector_expression(*texts, jsonb=jsonb),
        output_field=SearchVectorField(),
        db_persist=True,
    )


def search_query(words: str, config: str) -> SearchQuery:
    """What the person typed, read as a web search ("a phrase", -not, or), stemmed under
    `config` or matched as written."""
    query = SearchQuery(words, config=config, search_type="websearch")
    if config != FALLBACK_CONFIG:
        query = query | SearchQuery(words, config=FALLBACK_CONFIG, search_type="websearch")
    return query
