"""check_translatable (advocacy/management/commands/check_translatable.py): the floor of the
catalogues' CI check, on small sources: what it finds, what it accepts, and the waiver."""

from __future__ import annotations

import ast
import io
import textwrap

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from advocacy.management.commands.check_translatable import (
    Command,
    error_classes,
    python_findings,
    template_findings,
)


def texts(findings) -> list[str]:
    return [text for _line, text in findings]


# --- templates ------------------------------------------------------------------------------


def test_unmarked_text_is_found_with_its_line():
    source = '{% load i18n %}\n<h1>{% translate "Your shares" %}</h1>\n<p>\n  Nothing shared yet.\n</p>\n'
    assert template_findings(source) == [(4, "Nothing shared yet.")]


def test_translate_and_blocktranslate_are_accepted():
    source = textwrap.dedent(
        """\
        {% load i18n %}
        <p>{% translate "Save" %}</p>
        {% blocktranslate trimmed with name=user.name %}
          Hello {{ name }}, <a href="{{ url }}">read the guidelines</a>.
        {% endblocktranslate %}
        {% blocktranslate trimmed count counter=n %}one share{% plural %}{{ counter }} shares{% endblocktranslate %}
        <p>{{ user.name }} · 3 — 12:30</p>
        {% comment %}Not shown to anyone.{% endcomment %}
        <!-- Nor this. -->
        <script>const words = "Not read here";</script>
        """
    )
    assert template_findings(source) == []


def test_attributes_people_read_are_found_and_marked_ones_accepted():
    source = (
        '<img alt="Company logo" src="/x.png">\n'
        '<button title="{% translate \'Close\' %}" aria-label="Close the dialog">x</button>\n'
        '<input placeholder="{{ hint }}" class="wide tall">\n'
    )
    found = template_findings(source)
    assert (1, 'alt="Company logo"') in found
    assert (2, 'aria-label="Close the dialog"') in found
    assert all("title=" not in text and "placeholder" not in text and "class" not in text for _, text in found)


def test_pluralize_and_worded_default_filters_are_found():
    source = '{{ n }} share{{ n|pluralize }}\n{{ when|default:"Not yet" }}\n{{ level|default:"info" }}\n'
    found = template_findings(source)
    assert [line for line, _ in found if "pluralize" in _] == [1]
    assert any(line == 2 and "Not yet" in text for line, text in found)
    assert not any(line == 3 for line, _ in found)  # "info" is a token (a CSS class), not words


def test_a_template_line_can_be_waived():
    source = "<p>Advocacy</p>{# untranslated: the product's name #}\n<p>{{ n }} other words</p>\n"
    assert template_findings(source) == [(2, "other words")]


def test_a_waiver_does_not_hide_the_next_lines_text():
    source = "<p>Advocacy</p>{# untranslated: the product's name #}\n<p>Other words</p>\n"
    assert template_findings(source) == [(2, "Other words")]


# --- python ---------------------------------------------------------------------------------


PYTHON = textwrap.dedent(
    """\
    from django import forms
    from django.contrib import messages
    from django.db import models
    from django.utils.translation import gettext as _
    from django.utils.translation import gettext_lazy

    from advocacy.errors import ValidationFailed


    class ShareRefused(ValidationFailed):
        pass


    class Kind(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", gettext_lazy("Sent")


    class ShareForm(forms.Form):
        title = forms.CharField(label="Title", help_text=gettext_lazy("Shown first."))


    def act(request, share):
        raise ValidationFailed(f"{share.title} is too long.", fields={"title": ["Too long."]})


    def act_marked(request, share):
        messages.success(request, _("Saved %(title)s.") % {"title": share.title})
        raise ShareRefused(_("Refused."), fields={"title": [_("Too long.")]})


    def act_unmarked(request):
        messages.error(request, "Something failed.")
        raise ShareRefused("Refused for good.")
    """
)


def python_texts(source: str) -> list[str]:
    tree = ast.parse(source)
    return [ast.unparse(node) for node in python_findings(tree, error_classes([tree]))]


def test_python_finds_unmarked_errors_fields_messages_labels_and_choices():
    found = python_texts(PYTHON)
    assert "f'{share.title} is too long.'" in found  # an f-string as a domain error's message
    assert "{'title': ['Too long.']}" in found  # the fields of that error
    assert "'Something failed.'" in found  # messages.error
    assert "'Refused for good.'" in found  # a subclass of a domain error, found through its bases
    assert "'Title'" in found  # a form field's label
    assert "'Draft'" in found  # a choices label


def test_python_accepts_gettext_calls_and_their_interpolation():
    found = python_texts(PYTHON)
    assert not any(text in found for text in ("'Sent'", "'Shown first.'", "'Refused.'", "'Saved %(title)s.'"))


def test_error_classes_follow_the_bases():
    tree = ast.parse(PYTHON)
    assert {"ShareRefused", "ValidationFailed", "ValidationError"} <= error_classes([tree])


def test_a_python_line_can_be_waived(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "views.py").write_text(
        "from django.contrib import messages\n\n\n"
        "def view(request):\n"
        '    messages.info(request, "Advocacy")  # untranslated: the product\'s name\n'
        '    messages.info(request, "Other words")\n'
    )
    (tmp_path / "templates").mkdir()
    found = list(Command().python(tmp_path))
    assert found == [("app/views.py:6", "'Other words'")]


def test_tests_migrations_and_management_commands_are_not_read(tmp_path):
    for folder in ("tests", "migrations", "management"):
        (tmp_path / "app" / folder).mkdir(parents=True)
        (tmp_path / "app" / folder / "x.py").write_text('raise ValidationFailed("Words people never read.")\n')
    assert list(Command().python(tmp_path)) == []


def test_the_command_fails_while_something_is_unmarked(settings, tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("<p>Unmarked words</p>\n")
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match="1 string"):
        call_command("check_translatable", stdout=io.StringIO())
    (tmp_path / "templates" / "page.html").write_text('{% load i18n %}<p>{% translate "Marked" %}</p>\n')
    call_command("check_translatable", stdout=io.StringIO())


def test_examples_of_code_are_not_prose():
    """A <pre> or <code> holds what is typed (a CSV header, a command line), not words to
    translate; the prose around it still is."""
    source = "<pre>email,roles,teams\nana@example.com,employee</pre>\n<p>See <code>curl -X POST</code></p>\n"
    assert template_findings(source) == [(3, "See")]
