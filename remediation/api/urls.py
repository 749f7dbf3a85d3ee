from django.urls import include, path
from rest_framework.routers import SimpleRouter

from remediation.api.views import DeadLetterViewSet, MoogBreakerResetView

router = SimpleRouter(trailing_slash=False)
router.register("dead-letters", DeadLetterViewSet, basename="dead-letter")

urlpatterns = [
    path("api/v2/", include(router.urls)),
    path("api/v2/moog/breaker/reset", MoogBreakerResetView.as_view(), name="moog-breaker-reset"),
]
