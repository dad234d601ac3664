# Two commands matter: `make run` (the whole product, embedded defaults, demo data)
# and `make test` (the full suite on PostgreSQL, Redis, a Celery worker and Chromium).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: messages compile-messages check-messages gettext run test lint check-migrations bench load install install-dev browser wrk libpq xmlsec1 clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python libpq
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# `make run` adds honcho (Procfile.dev) on top of the runtime requirements; production does not.
$(RUN_STAMP): requirements.txt requirements-run.txt | $(BIN)/python libpq
	$(BIN)/pip install --quiet -r requirements-run.txt
	touch $(STAMP) $@

$(DEV_STAMP): requirements.txt requirements-run.txt requirements-dev.txt | $(BIN)/python libpq
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP) $(RUN_STAMP) $@

# Browser libraries (Chart.js) from the npm registry, exactly as package-lock.json pins them.
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

# Debian's Chromium for the browser tests (Playwright's own download is not used).
browser:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's libpq headers and pg_config: psycopg[c] (requirements.txt) builds against the system libpq.
libpq:
	@command -v pg_config >/dev/null && command -v cc >/dev/null || { \
	  echo "Installing Debian's libpq-dev and a C compiler for psycopg[c]..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libpq-dev gcc >/dev/null; }

# Debian's xmlsec1 binary: pysaml2 (the SAML IdP of the tests, tests/accounts/saml_idp.py) signs with it.
xmlsec1:
	@command -v xmlsec1 >/dev/null || { \
	  echo "Installing Debian's xmlsec1 for the SAML tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq xmlsec1 >/dev/null; }

# Debian's wrk, the HTTP load tool of bench/redirect.py.
wrk:
	@command -v wrk >/dev/null || { \
	  echo "Installing Debian's wrk for the benchmarks..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }

## make run: migrate, seed the demo organization, start web + worker + beat (Ctrl-C stops all)
## (DATABASE_URL when set, else the local PostgreSQL when one answers, else it stops and says how
## to start one, e.g. `docker compose --profile dev up -d devdb`: advocacy/devdb.py)
## The migrations run as the database's owner; the product runs as advocacy_app, a role that
## owns nothing and may only read and append to the audit trail (advocacy/dbroles.py).
run: $(RUN_STAMP) $(NODE_STAMP) compile-messages
	@export DEBUG=1 && DEVDB="$$($(BIN)/python -m advocacy.devdb)" && eval "$$DEVDB" \
	  && DATABASE_URL="$$OWNER_URL" DATABASE_APP_ROLE="$$APP_ROLE" $(BIN)/python manage.py migrate --noinput \
	  && export DATABASE_URL="$$APP_URL" && echo "database: $$DATABASE_URL" \
	  && $(BIN)/python manage.py seed_demo \
	  && PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

## make test: the whole suite against real services, in TEST_PROCESSES pytest-xdist workers
## (each on its own test database, Redis databases and private files: tests/parallel.py).
## 2 on the 2-core machine it was measured on; TEST_PROCESSES=0 runs in one process.
TEST_PROCESSES ?= 2
test: $(DEV_STAMP) $(NODE_STAMP) browser xmlsec1 compile-messages
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile

lint: $(DEV_STAMP) check-messages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

# --- Languages (issue 23): catalogues in locale/<code>/LC_MESSAGES, .po in git, .mo built ---
LANGUAGE_CODES := en fr de es
I18N_ENV := DEBUG=1 DATABASE_URL=sqlite:///:memory:
# File names without line numbers, so that moving code does not rewrite every catalogue.
MAKEMESSAGES := $(BIN)/python manage.py makemessages $(foreach l,$(LANGUAGE_CODES),-l $(l)) \
  --add-location=file --no-wrap --no-obsolete --ignore='.venv/*' --ignore='node_modules/*' \
  --ignore='tests/*' --ignore='bench/*' --ignore='var/*' --ignore='staticfiles/*' \
  --ignore='*/emulator*' --ignore='*/management/*'

## make messages: refresh every catalogue from the templates, the code and the browser scripts.
messages: $(STAMP) gettext
	$(I18N_ENV) $(MAKEMESSAGES) -d django -e html,txt,py
	$(I18N_ENV) $(MAKEMESSAGES) -d djangojs -e js --ignore='static/js/vendor/*'
	@# English is the source language: its catalogue repeats each string (msgen), so it is complete too.
	@for po in locale/en/LC_MESSAGES/*.po; do msgen --no-wrap -o "$$po" "$$po"; done

compile-messages: $(STAMP) gettext
	$(I18N_ENV) $(BIN)/python manage.py compilemessages --ignore='.venv/*' --ignore='node_modules/*' >/dev/null

## CI: a string people read left unmarked, a stale catalogue or one that does not compile fails.
check-messages: messages compile-messages
	$(I18N_ENV) $(BIN)/python manage.py check_translatable
	@status=0; for po in locale/*/LC_MESSAGES/*.po; do \
	  counts="$$(LC_ALL=C msgfmt --statistics -o /dev/null "$$po" 2>&1)"; echo "$$po: $$counts"; \
	  case "$$counts" in *untranslated*|*fuzzy*) status=1;; esac; done; \
	  [ $$status = 0 ] || { echo "A catalogue is incomplete: translate every string (no fuzzy entries)."; exit 1; }
	@git diff --exit-code -I '^"POT-Creation-Date: ' -- locale || { \
	  echo "The catalogues are stale: run 'make messages', translate what is new and commit locale/."; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- locale)" || { \
	  echo "New catalogues are not committed:"; git ls-files --others --exclude-standard -- locale; exit 1; }

# GNU gettext (xgettext, msgmerge, msgfmt) for the catalogues, from Debian's packages.
gettext:
	@command -v msgfmt >/dev/null || { \
	  echo "Installing Debian's gettext for the translation catalogues..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gettext >/dev/null; }

check-migrations: $(DEV_STAMP)
	DEBUG=1 DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run

bench: $(DEV_STAMP) $(NODE_STAMP) wrk
	@status=0; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || status=1; done; exit $$status

clean:
	rm -rf $(VENV) var staticfiles node_modules

## make load: the whole product under locust (bench/load/run.py): two web processes on two ports,
## two workers, the publisher, one beat, the emulator; p50/p95/p99 per page, exit 1 on a missed goal.
load: $(DEV_STAMP) $(NODE_STAMP)
	$(BIN)/python bench/load/run.py
