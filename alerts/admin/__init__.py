from alerts.admin import pipeline, rules  # noqa: F401  (registrations)
