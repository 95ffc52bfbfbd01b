"""Forms of the steering pages: they only shape input; services.py decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from metropole.core.forms import BrowserDateInput
from metropole.core.models import Organisation, Territory

from . import collectors
from .models import (
    ActionStatus,
    BodyKind,
    DecisionKind,
    Direction,
    Frequency,
    FundingSource,
    IndicatorKind,
    NodeKind,
    ValueKind,
    ValueType,
)

DATE = BrowserDateInput()


class PlanForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea, required=False)
    source = forms.CharField(
        label=_("Source"), required=False, help_text=_("The deliberation the plan comes from.")
    )
    start = forms.DateField(label=_("Start"), widget=DATE)
    end = forms.DateField(label=_("End"), widget=DATE, required=False)


class PublicationForm(forms.Form):
    is_public = forms.BooleanField(
        label=_("Publish the plan on its transparency page"), required=False
    )
    publish_budget = forms.BooleanField(label=_("Publish budgets"), required=False)
    publish_indicators = forms.BooleanField(label=_("Publish indicators"), required=False)


class NodeForm(forms.Form):
    parent = forms.TypedChoiceField(label=_("Under"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=NodeKind.choices)
    code = forms.CharField(label=_("Code"), max_length=20, required=False)
    title = forms.CharField(label=_("Title"), max_length=300)
    weight = forms.DecimalField(
        label=_("Weight"), initial=1, min_value=0.01, max_digits=6, decimal_places=2
    )

    def __init__(self, *args, nodes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("— top of the plan —"))] + [
            (row.node.pk, "— " * row.depth + str(row.node)) for row in nodes
        ]


class MoveNodeForm(forms.Form):
    node = forms.TypedChoiceField(label=_("Branch to move"), coerce=int)
    parent = forms.TypedChoiceField(
        label=_("New place: under"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, nodes=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(row.node.pk, "— " * row.depth + str(row.node)) for row in nodes]
        self.fields["node"].choices = choices
        self.fields["parent"].choices = [("", _("— top of the plan —"))] + choices


class ActionForm(forms.Form):
    node = forms.TypedChoiceField(label=_("Branch"), coerce=int)
    code = forms.CharField(label=_("Code"), max_length=20, required=False)
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    pilot_name = forms.CharField(label=_("Pilot (service or body)"), max_length=200, required=False)
    partners = forms.ModelMultipleChoiceField(
        label=_("Partner organisations"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    partners_text = forms.CharField(label=_("Other partners"), max_length=500, required=False)
    communes = forms.ModelMultipleChoiceField(
        label=_("Communes involved"),
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    start = forms.DateField(label=_("Start"), widget=DATE, required=False)
    end = forms.DateField(label=_("End"), widget=DATE, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100, initial=0)
    weight = forms.DecimalField(
        label=_("Weight"), initial=1, min_value=0.01, max_digits=6, decimal_places=2
    )

    def __init__(self, *args, nodes=(), metropole=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = [
            (row.node.pk, "— " * row.depth + str(row.node)) for row in nodes
        ]
        if metropole is not None:
            self.fields["partners"].queryset = Organisation.objects.filter(metropole=metropole)
            self.fields["communes"].queryset = (
                Territory.objects.communes().filter(metropole=metropole).order_by("name")
            )


class ProgressForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    note = forms.CharField(
        label=_("Note (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("What changed since the last update: it is kept, dated, with the action."),
    )


class StepForm(forms.Form):
    title = forms.CharField(label=_("Step"), max_length=300)
    due = forms.DateField(label=_("Due"), widget=DATE, required=False)


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File"))
    is_public = forms.BooleanField(label=_("Publish with the plan"), required=False)


class BudgetLineForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2200)
    source = forms.ChoiceField(label=_("Funding source"), choices=FundingSource.choices)
    planned = forms.DecimalField(
        label=_("Planned (€)"), max_digits=14, decimal_places=2, min_value=0
    )
    actual = forms.DecimalField(
        label=_("Actual (€)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False)


BudgetFormSet = forms.formset_factory(BudgetLineForm, extra=2, can_delete=True)


class BudgetTotalForm(forms.Form):
    total = forms.DecimalField(
        label=_("Total cost (€)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("When set, the planned amounts must add up to it."),
    )


class IndicatorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=IndicatorKind.choices)
    unit = forms.CharField(label=_("Unit"), max_length=40)
    value_type = forms.ChoiceField(label=_("Type of value"), choices=ValueType.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    baseline_value = forms.DecimalField(label=_("Baseline"), required=False)
    baseline_date = forms.DateField(label=_("Baseline date"), widget=DATE, required=False)
    target_value = forms.DecimalField(label=_("Target"), required=False)
    target_date = forms.DateField(label=_("Target date"), widget=DATE, required=False)
    specific = forms.CharField(
        label=_("Specific: what exactly is measured"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    measurable = forms.CharField(
        label=_("Measurable: how it is computed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    achievable = forms.CharField(
        label=_("Achievable: why the target is reachable"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    relevant = forms.CharField(
        label=_("Relevant: which objective it serves"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    time_bound = forms.CharField(
        label=_("Time-bound: by when"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    source = forms.CharField(label=_("Data source"), max_length=300, required=False)
    owner_name = forms.CharField(label=_("Owner (service)"), max_length=200, required=False)
    frequency = forms.ChoiceField(label=_("Collection frequency"), choices=Frequency.choices)
    collector = forms.ChoiceField(label=_("Automatic collection"), required=False)
    collector_aggregate = forms.CharField(
        label=_("Data hub figure"),
        required=False,
        max_length=100,
        help_text=_(
            "For a data hub source: count, sum(column), avg(column), min(column) or max(column)."
        ),
    )
    collector_query = forms.CharField(
        label=_("Data hub filters"),
        required=False,
        max_length=500,
        help_text=_("For a data hub source, e.g. annee=2024&commune=Lille."),
    )
    node = forms.TypedChoiceField(label=_("Branch"), coerce=int, required=False, empty_value=None)
    action = forms.TypedChoiceField(label=_("Action"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, nodes=(), actions=(), territory=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = [
            ("", _("none: entered by hand or imported"))
        ] + collectors.all_choices(territory)
        self.fields["node"].choices = [("", "—")] + [
            (r.node.pk, "— " * r.depth + str(r.node)) for r in nodes
        ]
        self.fields["action"].choices = [("", "—")] + [(a.pk, str(a)) for a in actions]


class ValueForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    value = forms.CharField(label=_("Value"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=ValueKind.choices)
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: indicator (number or exact name), date (YYYY-MM-DD), value; "
            "optional: kind, unit, comment."
        ),
    )


class BodyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BodyKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    frequency = forms.CharField(label=_("Meets"), max_length=200, required=False)


class MeetingForm(forms.Form):
    body = forms.TypedChoiceField(label=_("Body"), coerce=int)
    date = forms.DateField(label=_("Date"), widget=DATE)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    actions = forms.TypedMultipleChoiceField(
        label=_("Actions reviewed"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to review every open action."),
    )

    def __init__(self, *args, bodies=(), actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = [(b.pk, b.name) for b in bodies]
        self.fields["actions"].choices = [(a.pk, str(a)) for a in actions]


class DecisionForm(forms.Form):
    action = forms.TypedChoiceField(label=_("Action"), coerce=int)
    kind = forms.ChoiceField(
        label=_("Decision"), choices=DecisionKind.choices, widget=forms.RadioSelect
    )
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 3}))
    communes = forms.ModelMultipleChoiceField(
        label=_("Communes added (when extending to more communes)"),
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, actions=(), metropole=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a.pk, str(a)) for a in actions]
        if metropole is not None:
            self.fields["communes"].queryset = (
                Territory.objects.communes().filter(metropole=metropole).order_by("name")
            )


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea, required=False)
