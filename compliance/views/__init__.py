"""Compliance pages: the review queue, the policy editor, the audit log."""

from django.shortcuts import render

from advocacy.views import org_view


@org_view("compliance.review")
def queue(request):
    """The compliance officer's landing page: posts waiting for a decision."""
    return render(request, "compliance/queue.html")
