"""Where the two database roles are set up: `make run` (advocacy/devdb.py) and docker-compose
migrate as the owner and run the product as a role that owns nothing (issue 15, finding 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advocacy import devdb

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_migrates_as_the_owner_and_runs_as_the_app_role(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_APP_URL", raising=False)
    monkeypatch.setattr(devdb, "_postgres_answers", lambda: True)
    owner, app, role = devdb.development_urls()
    assert owner == "postgres://postgres@127.0.0.1:5432/advocacy_dev"
    assert app == "postgres://advocacy_app@127.0.0.1:5432/advocacy_dev"
    assert role == "advocacy_app"
    makefile = (ROOT / "Makefile").read_text()
    assert 'DATABASE_URL="$$OWNER_URL" DATABASE_APP_ROLE="$$APP_ROLE" $(BIN)/python manage.py migrate' in makefile
    assert 'export DATABASE_URL="$$APP_URL"' in makefile


def test_an_own_database_url_names_the_app_connection_apart(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://owner:pw@db.example/advocacy")
    monkeypatch.delenv("DATABASE_APP_URL", raising=False)
    assert devdb.development_urls() == (
        "postgres://owner:pw@db.example/advocacy",
        "postgres://owner:pw@db.example/advocacy",
        "",
    )
    monkeypatch.setenv("DATABASE_APP_URL", "postgres://app_user:pw2@db.example/advocacy")
    assert devdb.development_urls()[1:] == ("postgres://app_user:pw2@db.example/advocacy", "app_user")


def test_without_postgresql_make_run_stops_and_says_how_to_start_one(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(devdb, "_postgres_answers", lambda: False)
    with pytest.raises(devdb.NoDatabase) as missing:
        devdb.development_urls()
    assert "docker compose --profile dev up -d devdb" in str(missing.value)
    assert "DATABASE_URL=" in str(missing.value)


def test_the_devdb_service_is_the_postgresql_make_run_looks_for():
    devdb_service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["devdb"]
    assert devdb_service["profiles"] == ["dev"]
    assert devdb_service["ports"] == ["127.0.0.1:5432:5432"]
    assert devdb_service["environment"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"


def test_docker_compose_migrates_as_the_owner_and_runs_every_process_as_the_app_role():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    migrate = services["migrate"]["environment"]
    assert migrate["DATABASE_URL"].startswith("postgres://advocacy:")
    assert migrate["DATABASE_APP_ROLE"] == "advocacy_app"
    for name in ("web", "worker", "publisher", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://advocacy_app:"), name
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in str(services[name].get("command", "")), name
