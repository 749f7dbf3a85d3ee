from alerts.admin import pipeline, rules, runtime  # noqa: F401  (registrations)
