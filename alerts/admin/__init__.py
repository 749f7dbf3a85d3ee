from alerts.admin import api_keys, ingest_keys, lifecycle, login_protection, pipeline, rules, runtime  # noqa: F401  (registrations; lifecycle: issue 14)
