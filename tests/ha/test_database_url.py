"""DATABASE_URL with several hosts becomes libpq's host and port lists; a bad one names the setting."""

from __future__ import annotations

import dj_database_url
import pytest

from mutt_project.database_url import MULTI_HOST_ENGINE, database_settings, no_writable_host_message


def _parse(url: str) -> dict:
    return database_settings(url, dj_database_url.parse, conn_max_age=600)


def test_multi_host_url_gives_libpq_host_and_port_lists_and_asks_for_the_primary():
    config = _parse("postgres://mutt:s%40cret@db-a:5432,db-b:5433/mutt?sslmode=require")
    assert (config["HOST"], config["PORT"]) == ("db-a,db-b", "5432,5433")
    assert (config["USER"], config["PASSWORD"], config["NAME"]) == ("mutt", "s@cret", "mutt")
    assert config["OPTIONS"] == {"sslmode": "require", "target_session_attrs": "read-write"}
    assert config["ENGINE"] == MULTI_HOST_ENGINE
    assert config["CONN_MAX_AGE"] == 600


def test_an_explicit_target_session_attrs_is_kept():
    config = _parse("postgres://mutt@db-a,db-b/mutt?target_session_attrs=primary")
    assert (config["HOST"], config["PORT"]) == ("db-a,db-b", "")
    assert config["OPTIONS"]["target_session_attrs"] == "primary"


def test_one_host_url_is_what_dj_database_url_gives():
    url = "postgres://mutt:pw@db-a:5432/mutt"
    assert _parse(url) == dj_database_url.parse(url, conn_max_age=600)


@pytest.mark.parametrize(
    "url",
    ["postgres://mutt@db-a:5432,db-b/mutt", "postgres://mutt@db-a:x,db-b:5432/mutt", "postgres://mutt@db-a,,db-b/mutt"],
)
def test_unreadable_host_list_names_the_setting(url):
    with pytest.raises(ValueError, match="^DATABASE_URL: "):
        _parse(url)


def test_no_writable_host_message_names_setting_and_hosts_but_not_the_password():
    config = _parse("postgres://mutt:hunter2@db-a:5432,db-b:5433/mutt")
    message = no_writable_host_message(config, "connection refused")
    assert message.startswith("DATABASE_URL: no host accepts a connection with target_session_attrs=read-write")
    assert "db-a:5432, db-b:5433" in message
    assert "hunter2" not in message
