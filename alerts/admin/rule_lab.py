"""Rule lab in the admin: test the unsaved rule form against a sample message, backtest it, rule health.

The rule change form gets a "Test against a sample message" box and a
"Backtest this change" button: both send the form's *unsaved* values (the
same ModelForm, so the same validation as Save) to the views below, which
answer JSON that the page renders. Nothing is saved.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from alerts.models import AlertRule
from alerts.models.rule_lab import RuleBacktest
from alerts.selectors_rule_lab import HEALTH_COLUMNS, HEALTH_ORDERINGS, rule_health_list
from alerts.services.rule_backtest import (
    BacktestConflict,
    BacktestWindowInvalid,
    backtest_cancel,
    backtest_start,
    backtests_expire,
)
from alerts.services.rule_lab import DRAFT_FIELDS, DraftInvalid, events_explain, ruleset_with_drafts


def _backtest_json(backtest: RuleBacktest) -> dict:
    return {
        "id": str(backtest.pk),
        "state": backtest.status,
        "events_scanned": backtest.scanned,
        "percent": round(backtest.percent, 1),
        "error": backtest.error or None,
        "result": backtest.result,
    }


class RuleLabAdminMixin:
    """Adds the rule lab views and the change-form template to the AlertRule admin."""

    change_form_template = "admin/alerts/alertrule/change_form.html"
    change_list_template = "admin/alerts/alertrule/change_list.html"  # adds the "Rule health" link

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("lab/test/", wrap(self.lab_test_view), name="alerts_alertrule_lab_test"),
            path("lab/backtest/", wrap(self.lab_backtest_view), name="alerts_alertrule_lab_backtest"),
            path(
                "lab/backtest/<uuid:backtest_id>/",
                wrap(self.lab_backtest_status_view),
                name="alerts_alertrule_lab_backtest_status",
            ),
            path("lab/health/", wrap(self.lab_health_view), name="alerts_alertrule_lab_health"),
            *super().get_urls(),
        ]

    def _form_draft(self, request) -> tuple[dict | None, dict | None]:
        """(draft rule dict, None) from the posted unsaved form, or (None, form errors)."""
        object_id = request.POST.get("_lab_object_id") or None
        obj = get_object_or_404(AlertRule, pk=object_id) if object_id else None
        if not (self.has_change_permission(request, obj) if obj else self.has_add_permission(request)):
            raise PermissionDenied
        form_class = self.get_form(request, obj, change=obj is not None)
        form = form_class(request.POST, instance=obj)
        if not form.is_valid():  # ModelForm runs the model's full_clean: the same refusal as Save
            return None, {field: [str(e) for e in errors] for field, errors in form.errors.items()}
        draft = {name: getattr(form.instance, name) for name in DRAFT_FIELDS}
        if obj is not None:
            draft["id"] = obj.pk
        return draft, None

    @staticmethod
    def _sample(request) -> dict:
        severity = request.POST.get("sample_syslog_severity", "").strip()
        return {
            "hostname": request.POST.get("sample_hostname", ""),
            "message": request.POST.get("sample_message", ""),
            "syslog_severity": int(severity) if severity.isdigit() else None,
            "trap_oid": request.POST.get("sample_trap_oid", "").strip() or None,
        }

    def lab_test_view(self, request):
        if request.method != "POST":
            return JsonResponse({"detail": "POST the rule form"}, status=405)
        draft, errors = self._form_draft(request)
        if errors:
            return JsonResponse({"detail": "the rule form has errors", "errors": errors}, status=400)
        try:
            drafted = ruleset_with_drafts([draft])
        except DraftInvalid as exc:
            return JsonResponse({"detail": "draft rules refused", "errors": exc.messages}, status=400)
        return JsonResponse({"result": events_explain([self._sample(request)], drafted)[0]})

    def lab_backtest_view(self, request):
        if request.method != "POST":
            return JsonResponse({"detail": "POST the rule form"}, status=405)
        draft, errors = self._form_draft(request)
        if errors:
            return JsonResponse({"detail": "the rule form has errors", "errors": errors}, status=400)
        days = request.POST.get("backtest_days", "").strip()
        try:
            backtest = backtest_start(
                user=request.user.get_username(), rules=[draft], days=float(days) if days else None
            )
        except (DraftInvalid, BacktestWindowInvalid, ValueError) as exc:
            return JsonResponse({"detail": str(exc), "errors": getattr(exc, "messages", None)}, status=400)
        except BacktestConflict as exc:
            return JsonResponse(
                {"detail": "a backtest of yours is still running", "id": str(exc.running_id)}, status=409
            )
        return JsonResponse(_backtest_json(backtest), status=202)

    def lab_backtest_status_view(self, request, backtest_id):
        backtest = get_object_or_404(RuleBacktest, pk=backtest_id)
        if request.method == "POST":  # cancel (its owner, or a superuser)
            if backtest.user != request.user.get_username() and not request.user.is_superuser:
                raise PermissionDenied
            backtest = backtest_cancel(backtest)
        else:
            backtests_expire()
        return JsonResponse(_backtest_json(backtest))

    def lab_health_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        ordering = request.GET.get("o", "rule_id")
        if ordering not in HEALTH_ORDERINGS:
            ordering = "rule_id"
        context = {
            **self.admin_site.each_context(request),
            "title": "Rule health",
            "opts": self.model._meta,
            "rows": rule_health_list(ordering),
            "columns": HEALTH_COLUMNS,
            "ordering": ordering,
        }
        return TemplateResponse(request, "admin/alerts/alertrule/rule_health.html", context)
