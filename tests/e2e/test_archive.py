"""The compliance officer exports the archive, watches it build, downloads it, and checks
the audit trail: the export is in the log and the chain verifies."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from django.utils import timezone

from compliance.models import ArchiveExport
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_officer_exports_the_archive_and_verifies_the_audit_chain(page, live_server, demo, worker_process, tmp_path):
    login(page, live_server, "compliance@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Archive").click()
    today = timezone.now().date().isoformat()
    page.get_by_label("First day").fill("2020-01-01")
    page.get_by_label("Last day").fill(today)
    page.get_by_role("button", name="Build the export").click()
    page.get_by_text("The export is being built").wait_for()
    # htmx polls the list every 2 s while it builds; the link appears without a reload.
    link = page.get_by_role("link", name="Download")
    link.wait_for(timeout=60_000)
    screenshot(page, "archive-ready")
    with page.expect_download() as download_info:
        link.click()
    path = tmp_path / "archive.zip"
    download_info.value.save_as(path)
    export = ArchiveExport.objects.all_organizations().get()
    try:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == export.sha256
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            for name, meta in manifest["files"].items():
                assert hashlib.sha256(zf.read(name)).hexdigest() == meta["sha256"], name
        assert manifest["organization"]["slug"] == "acme"

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
        page.get_by_label("Search").fill("archive.")
        page.get_by_role("button", name="Filter").click()
        page.locator('[data-action="archive.exported"]').wait_for()
        page.get_by_role("link", name="Verify the chain").click()
        page.get_by_role("button", name="Verify now").click()
        page.get_by_test_id("chain-intact").wait_for()
        screenshot(page, "audit-chain-verified")
    finally:
        export.file.delete(save=False)
