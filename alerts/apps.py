from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "MUTT alerts"

    def ready(self) -> None:
        from alerts import signals  # noqa: F401  (rule-version bumps on every change)
        from mutt_project import checks  # noqa: F401  (deployment checks)
