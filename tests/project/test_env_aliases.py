"""The reference documents' variable names give our settings, each with a warning naming ours."""

from __future__ import annotations

from mutt_project.env_aliases import aliases_derive


def test_v25_template_names_become_our_urls_and_values():
    values, warnings = aliases_derive(
        {
            "REDIS_HOST": "cache", "REDIS_PORT": "6380", "REDIS_DB": "2", "REDIS_PASSWORD": "p w",
            "POSTGRES_HOST": "db", "POSTGRES_PORT": "5433", "POSTGRES_DB": "mutt", "POSTGRES_USER": "mutt_user",
            "POSTGRES_PASSWORD": "s@cret", "POSTGRES_SSL_MODE": "require", "MOOG_RATE_LIMIT_PER_SEC": "20",
            "ALERTER_CACHE_TTL_SECONDS": "30", "LOG_JSON_ENABLED": "true", "REQUIRED_MESSAGE_FIELDS": "timestamp,message",
        }
    )  # fmt: skip
    assert values == {
        "REDIS_URL": "redis://:p%20w@cache:6380/2",
        "DATABASE_URL": "postgres://mutt_user:s%40cret@db:5433/mutt",
        "DB_SSL_MODE": "require",
        "MOOG_RATE_LIMIT": "20",
        "RULE_CACHE_TTL": "30",
        "LOG_FORMAT": "json",
        "INGEST_REQUIRED_FIELDS": "timestamp,message",
    }
    assert "MOOG_RATE_LIMIT_PER_SEC is a reference-document name: use MOOG_RATE_LIMIT" in warnings
    assert any(
        w.startswith("REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD") and "use REDIS_URL" in w for w in warnings
    )
    assert not any("s@cret" in w or "p w" in w for w in warnings)  # never a secret in a warning


def test_our_own_name_wins_and_the_old_one_is_reported_ignored():
    values, warnings = aliases_derive({"REDIS_URL": "redis://x/0", "REDIS_HOST": "y", "RULE_CACHE_TTL": "5",
                                       "ALERTER_CACHE_TTL_SECONDS": "30", "INGEST_QUEUE_NAME": "q"})  # fmt: skip
    assert values == {}
    assert "REDIS_HOST ignored: REDIS_URL is set" in warnings
    assert any(w.startswith("ALERTER_CACHE_TTL_SECONDS is ignored") for w in warnings)
    assert any(w.startswith("INGEST_QUEUE_NAME has no effect") for w in warnings)


def test_nothing_old_nothing_said():
    assert aliases_derive({"REDIS_URL": "redis://x/0", "PATH": "/bin"}) == ({}, [])
