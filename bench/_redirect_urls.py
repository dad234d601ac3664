"""The product's URLs plus the benchmark's baseline: a bare Django view that answers a
redirect (same middleware, same server), never part of the production URLconf."""

from django.http import HttpResponseRedirect
from django.urls import path

from advocacy.urls import urlpatterns as product_urlpatterns

BARE_TARGET = "https://acme.example/news/bench?ref=site&utm_source=linkedin&utm_medium=employee_advocacy"


def bare_redirect(request):
    return HttpResponseRedirect(BARE_TARGET)


urlpatterns = [*product_urlpatterns, path("bench/bare-redirect", bare_redirect, name="bench_bare_redirect")]
