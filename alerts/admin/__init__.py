from alerts.admin import api_keys, pipeline, rules  # noqa: F401  (registrations)
