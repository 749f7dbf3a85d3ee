from alerts.admin import api_keys, config_versions, lifecycle, pipeline, rules, runtime  # noqa: F401  (registrations)
