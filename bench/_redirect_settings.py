"""Settings of the gunicorn server that bench/redirect.py starts: the product's settings with
a URLconf that adds the baseline view. Only the benchmark process imports this module."""

from advocacy.settings import *  # noqa: F403

ROOT_URLCONF = "_redirect_urls"
