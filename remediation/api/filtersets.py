import django_filters

from alerts.choices import DeadLetterStage, DeadLetterStatus
from alerts.models import DeadLetter


class DeadLetterFilterSet(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=DeadLetterStage.choices)
    status = django_filters.ChoiceFilter(choices=DeadLetterStatus.choices)

    class Meta:
        model = DeadLetter
        fields = ["stage", "status"]
