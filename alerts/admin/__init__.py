from alerts.admin import (  # noqa: F401  (registrations)
    api_keys,
    config_versions,
    ingest_keys,
    lifecycle,
    login_protection,
    pipeline,
    rules,
    runtime,
)
