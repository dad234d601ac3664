"""Django's makemessages, with msgmerge told not to guess (issue 23).

msgmerge's fuzzy matching gives a new string the translation of a similar old one and marks
it fuzzy; compilemessages then leaves it out and the page falls back to English without
a word. Here a new string stays untranslated, which `make check-messages` reports.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
