"""Dead letters over HTTP: list and read (read scope); replay now or discard (write scope), audited."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.errors import Conflict
from alerts.api.pagination import EnvelopePagination
from alerts.api.views import StrictQueryParamsMixin
from alerts.models import DeadLetter
from remediation.api.filtersets import DeadLetterFilterSet
from remediation.api.serializers import (
    BreakerResetAnswerSerializer,
    BreakerResetSerializer,
    DeadLetterActionSerializer,
    DeadLetterSerializer,
)
from remediation.operator_actions import dead_letters_discard, dead_letters_replay_now, moog_breaker_reset


class DeadLetterPagination(EnvelopePagination):
    results_key = "dead_letters"
    max_limit = 500


class DeadLetterViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Work that failed (classify or forward) and waits for replay or an operator, newest first."""

    queryset = DeadLetter.objects.all().order_by("-created_at", "-id")
    serializer_class = DeadLetterSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeadLetterFilterSet
    pagination_class = DeadLetterPagination

    def _answer(self, letter_id: int, result: str, message: str) -> Response:
        letter = DeadLetter.objects.get(pk=letter_id)
        body = {"id": letter_id, "message": message, "result": result, "dead_letter": DeadLetterSerializer(letter).data}
        return Response(body)

    @extend_schema(request=None, responses={200: DeadLetterActionSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Replay now (backoff and poison ignored). 409 when the letter was already replayed or discarded."""
        letter = self.get_object()
        results = dead_letters_replay_now(ids=[letter.pk], user=request.user)
        if not results:
            raise Conflict(f"Dead letter {letter.pk} is {letter.status}: nothing to replay.")
        (result,) = results
        return self._answer(letter.pk, str(result), f"Replay: {result}")

    @extend_schema(request=None, responses={200: DeadLetterActionSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Discard: kept for the record, never replayed. 409 when already discarded."""
        letter = self.get_object()
        if not dead_letters_discard(ids=[letter.pk], user=request.user):
            raise Conflict(f"Dead letter {letter.pk} is already discarded.")
        return self._answer(letter.pk, "discarded", "Dead letter discarded")


class MoogBreakerResetView(APIView):
    """``POST /api/v2/moog/breaker/reset``: close the Moogsoft breaker now (write scope), audited."""

    @extend_schema(request=BreakerResetSerializer, responses={200: BreakerResetAnswerSerializer})
    def post(self, request):
        body = BreakerResetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(moog_breaker_reset(user=request.user, reason=body.validated_data.get("reason", "")))
