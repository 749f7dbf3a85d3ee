from alerts.admin import api_keys, pipeline, rules, runtime  # noqa: F401  (registrations)
