"""``POST /api/v2/ingest`` served by Django (web process, tests): thin, the work is in ingest.service.

The ingest process answers the same paths without Django's middleware, in
``ingest.wsgi``; both call ``ingest_handle``.
"""

from __future__ import annotations

import orjson
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ingest.service import ingest_handle


@csrf_exempt
def ingest(request):
    if request.method != "POST":
        return JsonResponse({"error": "use POST"}, status=405, headers={"Allow": "POST"})
    result = ingest_handle(request.headers.get, request.read)
    return HttpResponse(
        orjson.dumps(result.body), status=result.status, headers=result.headers, content_type="application/json"
    )
