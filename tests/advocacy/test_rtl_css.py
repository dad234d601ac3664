"""The stylesheet mirrors in a right-to-left language (issue 23): base.html sets dir="rtl" for a
bidi language, and app.css says start/end (margin-inline-start, inset-inline-start,
text-align: start...) wherever a side follows the reading direction, never left/right."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

APP_CSS = Path(settings.BASE_DIR) / "static" / "css" / "app.css"

# Declarations that name a physical side on purpose, as (selector, property): none today.
# Add one only with the reason beside it (a chart's axis, an arrow that points at something
# on the screen's right whatever the language...).
ALLOWED: set[tuple[str, str]] = set()

COMMENT = re.compile(r"/\*.*?\*/", re.S)
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
PHYSICAL_PROPERTY = re.compile(
    r"^(left|right|(margin|padding|border)-(left|right)(-\w+)?|border-(top|bottom)-(left|right)-radius|scroll-(margin|padding)-(left|right))$"
)
SIDE_VALUES = {"text-align", "float", "clear", "caption-side", "resize"}
FOUR_SIDES = {
    "margin",
    "padding",
    "inset",
    "border-width",
    "border-style",
    "border-color",
    "scroll-margin",
    "scroll-padding",
}


def declarations(css: str):
    """(line, selector, property, value) of every declaration, @media blocks included."""
    css = COMMENT.sub(lambda m: "\n" * m.group().count("\n"), css)
    for rule in RULE.finditer(css):
        selector = " ".join(rule.group(1).split("{")[-1].split())
        line = css.count("\n", 0, rule.start(2)) + 1
        for declaration in rule.group(2).split(";"):
            if ":" not in declaration:
                continue
            prop, value = (part.strip() for part in declaration.split(":", 1))
            yield line, selector, prop.lower(), " ".join(value.lower().replace("!important", "").split())


def physical(prop: str, value: str) -> bool:
    if PHYSICAL_PROPERTY.match(prop):
        return True
    if prop in SIDE_VALUES and re.search(r"\b(left|right)\b", value):
        return True
    parts = value.split()
    if prop in FOUR_SIDES and len(parts) == 4:
        return parts[1] != parts[3]  # top right bottom left: the two sides differ
    if prop == "border-radius" and "/" not in value:
        # top-left, top-right, bottom-right, bottom-left: mirrored only when each left corner is its right one
        mirrored = {
            2: lambda p: p[0] == p[1],
            3: lambda p: p[0] == p[1] == p[2],
            4: lambda p: p[0] == p[1] and p[2] == p[3],
        }
        return len(parts) in mirrored and not mirrored[len(parts)](parts)
    return False


def physical_declarations(css: str) -> list[str]:
    return [
        f"app.css:{line}: {selector} {{ {prop}: {value} }}"
        for line, selector, prop, value in declarations(css)
        if physical(prop, value) and (selector, prop) not in ALLOWED
    ]


def test_app_css_says_start_and_end_not_left_and_right():
    assert physical_declarations(APP_CSS.read_text(encoding="utf-8")) == []


def test_the_check_sees_each_physical_form():
    css = """
    /* a comment with margin-left: 1rem is not a rule */
    .a { margin-left: 1rem; }
    .b { position: absolute; right: 0; }
    @media (max-width: 760px) { .c { text-align: right; } }
    .d { padding: 0 1rem 0 2rem; }
    .e { border-top-left-radius: 4px; }
    .f { float: left; }
    .g { border-radius: 6px 0; }
    .ok { margin: 0 auto; padding: 1rem 2rem 3rem 2rem; margin-inline-start: 1rem; inset-inline-end: 0;
          text-align: start; border-radius: 6px 6px 0 0; letter-spacing: .04em; }
    """
    found = physical_declarations(css)
    assert [line.split(" {")[0].split(": ", 1)[1] for line in found] == [".a", ".b", ".c", ".d", ".e", ".f", ".g"]
