from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "MUTT alerts"

    def ready(self) -> None:
        from alerts import signals  # noqa: F401  (rule-version bumps on every change)

        _alias_warnings_log()


def _alias_warnings_log() -> None:
    """One start-up warning per reference-document variable name in use (mutt_project.env_aliases)."""
    import logging

    from django.conf import settings

    for warning in getattr(settings, "ENV_ALIAS_WARNINGS", []):
        logging.getLogger("mutt.settings").warning("settings: %s", warning)
