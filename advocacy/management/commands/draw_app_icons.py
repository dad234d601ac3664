"""Draw the installable app's PNG icons from the SVGs in static/icons/ (run it after changing
them and commit the PNGs): 192 and 512 pixels of app-icon.svg, and 512 of
app-icon-maskable.svg, whose mark stays inside the maskable safe zone (the middle 80%).

The SVGs are rendered by Chromium (the browser tests' Playwright and /usr/bin/chromium), so
the PNGs are exactly what a browser draws of them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

ICONS = [("app-icon.svg", 192, "icon-192.png"), ("app-icon.svg", 512, "icon-512.png")]
ICONS += [("app-icon-maskable.svg", 512, "icon-maskable-512.png")]


class Command(BaseCommand):
    help = "Draw static/icons/*.png from the SVGs next to them (needs Playwright and Chromium)."

    def add_arguments(self, parser):
        parser.add_argument("--chromium", default="/usr/bin/chromium")

    def handle(self, *args, chromium: str, **options):
        from playwright.sync_api import sync_playwright  # a test tool: only this command needs it

        folder = Path(settings.BASE_DIR) / "static" / "icons"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            for source, size, target in ICONS:
                page = browser.new_page(viewport={"width": size, "height": size})
                svg = (folder / source).read_text()
                page.set_content(
                    f"<style>html,body{{margin:0;background:transparent}}svg{{display:block;width:{size}px;"
                    f"height:{size}px}}</style>{svg}"
                )
                page.screenshot(path=str(folder / target), omit_background=True)
                page.close()
                self.stdout.write(f"static/icons/{target}: {size}x{size} from {source}")
            browser.close()
