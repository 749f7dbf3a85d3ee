from alerts.admin import api_keys, lifecycle, pipeline, rules, runtime  # noqa: F401  (registrations; lifecycle: issue 14)
