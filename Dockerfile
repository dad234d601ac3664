# One image for web, worker and beat (docker-compose.yml picks the command).

# Browser libraries (Chart.js) from the npm registry, exactly as package-lock.json pins them.
FROM node:20-slim AS browser-libs
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# psycopg's C speedups (psycopg[c]) build against libpq: compiler and headers in this stage only.
FROM python:3.11-slim AS deps
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements.txt ./
RUN pip install --no-cache-dir --disable-pip-version-check --prefix=/install -r requirements.txt

# The shipped catalogues compiled to .mo (GNU gettext's msgfmt, in this stage only).
FROM debian:bookworm-slim AS catalogues
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY locale /build/locale
RUN for po in $(find /build/locale -name '*.po'); do msgfmt --check -o "${po%.po}.mo" "$po"; done

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# The runtime library psycopg was built against (no compiler, no headers here).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first so that code changes do not reinstall them: installed in the stage above.
# gunicorn (the CMD below) must be pinned in requirements.txt.
COPY --from=deps /install /usr/local

# The project's own code only (no .venv, var/, tests): see the layout in DESIGN.md.
# Code stays owned by root, read-only for the app user.
COPY manage.py ./
COPY advocacy ./advocacy
COPY networks ./networks
COPY accounts ./accounts
COPY content ./content
COPY compliance ./compliance
COPY analytics ./analytics
COPY integrations ./integrations
COPY --from=catalogues /build/locale ./locale
COPY templates ./templates
COPY static ./static
COPY --from=browser-libs /build/node_modules/chart.js/dist ./node_modules/chart.js/dist

# Static files are collected into the image and served by WhiteNoise (hashed, compressed).
# The key below is a throwaway made for this build step only; it protects nothing and is
# not present at run time (the runtime keys come from the environment).
RUN SECRET_KEY=build-only-not-secret \
    TOKEN_ENCRYPTION_KEYS=o-DMGywtyNNje-ABR3PQJwC2rAUj_SaAQjN2N9rEmIU= \
    DEBUG=0 STATIC_MANIFEST=1 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var

# Serve the collected files, not the finders (those are for `make run` and the tests).
ENV WHITENOISE_USE_FINDERS=0 \
    STATIC_MANIFEST=1 \
    WEB_CONCURRENCY=3

USER app

EXPOSE 8000

# gunicorn reads WEB_CONCURRENCY for the number of workers; its control socket (new in
# recent gunicorn releases) is not needed in a container and would want a writable home directory.
CMD ["gunicorn", "advocacy.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--worker-tmp-dir", "/dev/shm", "--no-control-socket"]
