from django.urls import path

from alerts.api.runtime import RuntimeConfigView

urlpatterns = [path("config", RuntimeConfigView.as_view(), name="api-config")]
