"""Liveness for load balancers and compose: answers 200 when the database answers."""

from django.http import HttpResponse

from advocacy.sql import global_cursor


def healthz(request):
    with global_cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
