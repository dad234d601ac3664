"""Employee and marketer pages: the feed, the composer, the content library."""

from django.shortcuts import render

from advocacy.views import org_view


@org_view("feed.use")
def feed(request):
    """The employee's landing page: content approved for sharing."""
    return render(request, "content/feed.html")


@org_view("library.manage")
def library(request):
    """The marketer's landing page: the content library."""
    return render(request, "content/library.html")
