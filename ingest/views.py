"""``POST /api/v2/ingest``: the front door (thin: the work is in ingest.service)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ingest.service import IngestRefused, ingest_request


@csrf_exempt
def ingest(request):
    if request.method != "POST":
        return JsonResponse({"error": "use POST"}, status=405, headers={"Allow": "POST"})
    try:
        status, body = ingest_request(request)
    except IngestRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return JsonResponse({"error": refused.message, **refused.extra}, status=refused.status, headers=headers)
    return JsonResponse(body, status=status)
