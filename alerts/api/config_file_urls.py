"""Configuration-as-code routes, included under ``api/v2/``."""

from django.urls import path

from alerts.api import config_file as views

urlpatterns = [
    path("config-file", views.ConfigExportView.as_view(), name="config-file-export"),
    path("config-file/schema", views.ConfigSchemaView.as_view(), name="config-file-schema"),
    path("config-file/validate", views.ConfigValidateView.as_view(), name="config-file-validate"),
    path("config-file/plan", views.ConfigPlanView.as_view(), name="config-file-plan"),
    path("config-file/apply", views.ConfigApplyView.as_view(), name="config-file-apply"),
    path("config-versions", views.ConfigVersionListView.as_view(), name="config-versions"),
    path("config-versions/<int:number>", views.ConfigVersionDetailView.as_view(), name="config-version"),
    path(
        "config-versions/<int:number>/diff/<int:other>",
        views.ConfigVersionDiffView.as_view(),
        name="config-version-diff",
    ),
    path("config-versions/<int:number>/rollback", views.ConfigRollbackView.as_view(), name="config-version-rollback"),
    path("lookup-tables/<str:name>/csv", views.LookupTableCsvView.as_view(), name="lookup-table-csv"),
]
