from django.urls import re_path

from ingest.views import ingest

# With or without a trailing slash: senders are configured by hand, and a
# redirect would turn their POST into a GET.
urlpatterns = [
    re_path(r"^api/v2/ingest/?$", ingest, name="ingest"),
    re_path(r"^ingest/?$", ingest, name="ingest-legacy"),  # older senders
]
