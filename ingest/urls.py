from django.urls import path

from ingest.views import ingest

urlpatterns = [
    path("api/v2/ingest", ingest, name="ingest"),
    path("ingest", ingest, name="ingest-legacy"),  # older senders
]
