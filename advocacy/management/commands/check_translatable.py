"""Fail when a string a person reads is not marked for translation (issue 23).

`make check-messages` runs it in CI, beside `makemessages` + `git diff --exit-code` on the
catalogues (a stale catalogue) and `compilemessages` (a broken one). What it reads:

Templates (templates/, every .html and .txt): text outside `{% translate %}` and
`{% blocktranslate %}` (HTML comments, <script>, <style>, <pre> and <code> bodies, `{% comment %}` and
`{% verbatim %}` aside), the attributes people read (alt, title, placeholder, aria-label...),
`default:"…"` and `yesno:"…"` with words in them (a capital or a space: "info" is a token),
and `pluralize`, whose plural is English.

Python (the apps, not tests, migrations, emulators or management commands, whose readers
are operators): a literal with words in it, or an f-string, given as the message of a domain
error (advocacy.errors and its subclasses) or of Django's ValidationError, to `messages.*`,
as a form field's label, help_text or empty_label, or as a choices class's label. The
marked forms are gettext's calls (`_`, `gettext`, `gettext_lazy`, `ngettext`, `pgettext`,
`format_lazy`...) around the literal, or a `%` applied to such a call.

A line that must stay as it is says so with a trailing `# untranslated: <why>` (Python) or
`{# untranslated: <why> #}` at the end of the line (templates).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.base import Lexer, TokenType

WORDS = re.compile(r"[^\W\d_]{2,}")
ENTITY = re.compile(r"&[#\w]+;")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Scripts, styles and examples of code (<pre>, <code>): what they hold is not prose to translate.
SCRIPT_OR_STYLE = re.compile(r"<(script|style|pre|code)\b[^>]*>.*?</\1\s*>", re.S | re.I)
TAG = re.compile(r"<[^>]*>", re.S)
READ_ATTRIBUTES = re.compile(
    r"""\b(alt|title|placeholder|aria-label|aria-description|aria-roledescription|aria-valuetext|label)\s*=\s*(["'])(.*?)\2""",
    re.S | re.I,
)
FILTER_LITERAL = re.compile(r"""\|\s*(default|default_if_none|yesno)\s*:\s*(["'])(.*?)\2""")
PLURALIZE = re.compile(r"\|\s*pluralize\b")
OPENERS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}
HOLE = "\x00"
WAIVER = "untranslated:"

GETTEXT_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "format_lazy",
    "_lazy",
    "ngettext_",
}
MESSAGE_CALLS = {"debug", "info", "success", "warning", "error", "add_message"}
FIELD_KEYWORDS = {"label", "help_text", "empty_label"}
CHOICE_BASES = {"TextChoices", "IntegerChoices", "Choices"}
ERROR_ROOTS = {"ApplicationError", "ValidationError"}
SKIPPED_PARTS = {"tests", "migrations", "management", "emulator", "bench", "node_modules", ".venv"}


class Command(BaseCommand):
    help = "List the strings people read that are not marked for translation; fail if there is one."

    def handle(self, *args, **options):
        root = Path(settings.BASE_DIR)
        findings = [*self.templates(root), *self.python(root)]
        for where, text in findings:
            self.stdout.write(f"{where}: {text}")
        if findings:
            raise CommandError(
                f"{len(findings)} string(s) people read are not marked for translation "
                "(wrap them in {% translate %}/{% blocktranslate %} or gettext; see check_translatable's docstring)."
            )
        self.stdout.write("Every string people read is marked for translation.")

    # --- templates ------------------------------------------------------------------------

    def templates(self, root: Path):
        for path in sorted((root / "templates").rglob("*")):
            if path.suffix in {".html", ".txt"} and path.is_file():
                rel = path.relative_to(root)
                yield from ((f"{rel}:{line}", text) for line, text in template_findings(path.read_text()))

    # --- python ---------------------------------------------------------------------------

    def python(self, root: Path):
        files = [
            p
            for p in sorted(root.glob("*/**/*.py"))
            if not SKIPPED_PARTS.intersection(p.relative_to(root).parts)
            and not any(part.endswith("emulator.py") for part in p.parts)
        ]
        trees = {p: ast.parse(p.read_text(), str(p)) for p in files}
        errors = error_classes(trees.values())
        for path, tree in trees.items():
            lines = path.read_text().splitlines()
            rel = path.relative_to(root)
            for node in python_findings(tree, errors):
                line = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
                end = lines[node.end_lineno - 1] if node.end_lineno and node.end_lineno <= len(lines) else ""
                if WAIVER in line or WAIVER in end:
                    continue
                yield f"{rel}:{node.lineno}", ast.unparse(node)[:100]


def template_findings(source: str) -> list[tuple[int, str]]:
    """(line, text) of each unmarked piece of text in one template's source."""
    waived = {n for n, line in enumerate(source.splitlines(), 1) if WAIVER in line}
    skeleton, findings = _skeleton(source)
    text = "".join(piece for piece, _ in skeleton)
    starts, offset = [], 0  # where each piece came from, to give a line for each finding
    for piece, line in skeleton:
        starts.append((offset, line, piece))
        offset += len(piece)

    def line_at(position: int) -> int:
        found = 1
        for start, line, piece in starts:
            if start > position:
                break
            found = line + piece[: position - start].count("\n")
        return found

    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    text = SCRIPT_OR_STYLE.sub(blank, HTML_COMMENT.sub(blank, text))
    for match in READ_ATTRIBUTES.finditer(text):
        if WORDS.search(ENTITY.sub(" ", match.group(3)).replace(HOLE, " ")):
            findings.append((line_at(match.start()), f'{match.group(1)}="{match.group(3).replace(HOLE, "…")}"'))
    text = TAG.sub(blank, text)
    for match in re.finditer(r"[^\x00\n]+", text):  # line by line: a waiver covers its own line only
        piece = ENTITY.sub(" ", match.group(0))
        if WORDS.search(piece):
            findings.append((line_at(match.start() + len(piece) - len(piece.lstrip())), " ".join(piece.split())[:80]))
    return sorted((line, text) for line, text in findings if line not in waived)


def _skeleton(source: str) -> tuple[list[tuple[str, int]], list[tuple[int, str]]]:
    """The template's text outside translation blocks and comments, with a hole for each tag
    and variable, each piece with its line; and the variables whose filters carry words."""
    skeleton: list[tuple[str, int]] = []
    findings: list[tuple[int, str]] = []
    closing: str | None = None
    verbatim = False
    for token in Lexer(source).tokenize():
        line = token.lineno
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split(" ", 1)[0]
            if verbatim or closing:
                verbatim = verbatim and name != "endverbatim"
                closing = None if name == closing else closing
                continue
            closing = OPENERS.get(name)
            verbatim = name == "verbatim"
            skeleton.append((HOLE, line))
        elif token.token_type == TokenType.VAR and not closing:
            if PLURALIZE.search(token.contents) or any(
                # "info" (a CSS class) is a token; "Not yet" or "None" are words a person reads.
                WORDS.search(m.group(3)) and (" " in m.group(3) or m.group(3) != m.group(3).lower())
                for m in FILTER_LITERAL.finditer(token.contents)
            ):
                findings.append((line, token.contents))
            skeleton.append((HOLE, line))
        elif token.token_type == TokenType.TEXT and not closing:
            skeleton.append((token.contents, line))
    return skeleton, findings


def error_classes(trees) -> set[str]:
    """The names of every class that is, through its bases, a domain or validation error."""
    bases: dict[str, set[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    known = set(ERROR_ROOTS) | {"ValidationFailed", "NotAllowed", "NotFound", "Conflict"}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in known and parents & known:
                known.add(name)
                grew = True
    return known


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _unmarked(node: ast.AST | None) -> bool:
    """A literal with words in it or an f-string, not inside a gettext call."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and WORDS.search(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp):  # "a" + "b", "x %s" % y: the left side decides
        return _unmarked(node.left) or (isinstance(node.op, ast.Add) and _unmarked(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _unmarked(node.func.value)
    if isinstance(node, ast.IfExp):
        return _unmarked(node.body) or _unmarked(node.orelse)
    if isinstance(node, ast.Dict):
        return any(_unmarked(v) for v in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return any(_unmarked(v) for v in node.elts)
    return False


def python_findings(tree: ast.AST, errors: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in GETTEXT_CALLS:
                continue
            if name in errors:
                keywords = {k.arg: k.value for k in node.keywords}
                message = node.args[0] if node.args else keywords.get("message")
                if _unmarked(message):
                    yield message
                for keyword in node.keywords:
                    if keyword.arg == "fields" and _unmarked(keyword.value):
                        yield keyword.value
            elif name in MESSAGE_CALLS and _name(getattr(node.func, "value", None)) == "messages":
                message = node.args[-1] if len(node.args) >= 2 else None
                if _unmarked(message):
                    yield message
            for keyword in node.keywords:
                if keyword.arg in FIELD_KEYWORDS and _unmarked(keyword.value):
                    yield keyword.value
        elif isinstance(node, ast.ClassDef) and CHOICE_BASES & {_name(b) for b in node.bases}:
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                    elements = statement.value.elts
                    if len(elements) >= 2 and _unmarked(elements[-1]):
                        yield elements[-1]
