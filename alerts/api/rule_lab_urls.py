"""Rule lab routes, included under ``api/v2/`` before any ``rules/<id>`` route."""

from django.urls import path

from alerts.api.rule_lab import BacktestCancelView, BacktestDetailView, BacktestStartView, RuleHealthView, RuleTestView

urlpatterns = [
    path("rules/test", RuleTestView.as_view(), name="rule-lab-test"),
    path("rules/backtest", BacktestStartView.as_view(), name="rule-lab-backtest"),
    path("rules/backtest/<uuid:backtest_id>", BacktestDetailView.as_view(), name="rule-lab-backtest-detail"),
    path("rules/backtest/<uuid:backtest_id>/cancel", BacktestCancelView.as_view(), name="rule-lab-backtest-cancel"),
    path("rules/health", RuleHealthView.as_view(), name="rule-lab-health"),
]
