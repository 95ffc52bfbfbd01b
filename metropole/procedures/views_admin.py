"""Back-office of a territory's administrators: procedures (forms built field by field) and
teams. Workflows have their own editor (views_workflow)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metropole.core.exceptions import PlatformError
from metropole.core.models import User
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import engine, queries, services
from .forms import FieldForm, FormSettingsForm, TeamForm
from .models import Form, FormField, Team, Workflow


def _workflows(territory):
    ids = [territory.pk] + ([territory.metropole_id] if territory.metropole_id else [])
    return Workflow.objects.filter(territory_id__in=ids)


def _services(territory, form=None):
    """Catalogue services a form may present: the territory's own, and the one it has."""
    from django.db.models import Q

    from metropole.catalogue.models import Service

    current = Q(pk=form.service_id) if form is not None and form.service_id else Q(pk__in=[])
    return Service.objects.filter(Q(territory=territory, active=True) | current).select_related(
        "territory"
    )


def _apply_error(form, error: PlatformError):
    name = error.field if error.field in form.fields else None
    form.add_error(name, error.detail or error.title)


@territory_permission_required("procedures.manage_forms")
def forms_list(request, territory):
    settings_form = FormSettingsForm(
        request.POST or None, workflows=_workflows(territory), services=_services(territory)
    )
    if request.method == "POST" and settings_form.is_valid():
        try:
            form = services.save_form(request.user, territory, **settings_form.cleaned_data)
        except PlatformError as error:
            _apply_error(settings_form, error)
        else:
            messages.success(request, _("Procedure created. Add its fields."))
            return redirect("procedures:form_edit", slug=territory.slug, form_id=form.pk)
    return render(
        request,
        "procedures/admin/forms.html",
        admin_context(
            request, territory, forms=queries.forms_managed(territory), form=settings_form
        ),
        status=400 if settings_form.errors else 200,
    )


@territory_permission_required("procedures.manage_forms")
def form_edit(request, territory, form_id):
    obj = queries.get_form_of(territory, form_id)
    settings_form = FormSettingsForm(
        request.POST if "settings" in request.POST else None,
        instance=obj,
        workflows=_workflows(territory),
        services=_services(territory, obj),
    )
    field_form = FieldForm(request.POST if "add_field" in request.POST else None, prefix="new")
    if request.method == "POST":
        if "settings" in request.POST and settings_form.is_valid():
            try:
                services.save_form(
                    request.user,
                    territory,
                    form=Form.objects.get(pk=obj.pk),
                    **settings_form.cleaned_data,
                )
            except PlatformError as error:
                _apply_error(settings_form, error)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("procedures:form_edit", slug=territory.slug, form_id=obj.pk)
        if "add_field" in request.POST and field_form.is_valid():
            try:
                services.save_field(request.user, obj, **field_form.values())
            except PlatformError as error:
                _apply_error(field_form, error)
            else:
                messages.success(request, _("Field added."))
                return redirect("procedures:form_edit", slug=territory.slug, form_id=obj.pk)
    fields = list(obj.fields.all())
    return render(
        request,
        "procedures/admin/form_edit.html",
        admin_context(
            request,
            territory,
            obj=obj,
            settings_form=settings_form,
            field_form=field_form,
            pages=engine.pages_of(obj, fields),
            field_count=len(fields),
        ),
        status=400 if (settings_form.errors or field_form.errors) else 200,
    )


@territory_permission_required("procedures.manage_forms")
def field_edit(request, territory, form_id, field_id):
    obj = queries.get_form_of(territory, form_id)
    field = get_object_or_404(FormField, pk=field_id, form=obj)
    field_form = FieldForm(request.POST or None, instance=FormField.objects.get(pk=field.pk))
    if request.method == "POST":
        if "delete" in request.POST:
            try:
                services.delete_field(request.user, field)
            except PlatformError as error:
                messages.error(request, error.detail or error.title)
                return redirect(
                    "procedures:field_edit", slug=territory.slug, form_id=obj.pk, field_id=field.pk
                )
            messages.success(request, _("Field deleted."))
            return redirect("procedures:form_edit", slug=territory.slug, form_id=obj.pk)
        if field_form.is_valid():
            try:
                services.save_field(request.user, obj, field=field, **field_form.values())
            except PlatformError as error:
                _apply_error(field_form, error)
            else:
                messages.success(request, _("Field saved."))
                return redirect("procedures:form_edit", slug=territory.slug, form_id=obj.pk)
    return render(
        request,
        "procedures/admin/field_edit.html",
        admin_context(request, territory, obj=obj, field=field, form=field_form),
        status=400 if field_form.errors else 200,
    )


@require_POST
@territory_permission_required("procedures.manage_forms")
def field_move(request, territory, form_id, field_id):
    obj = queries.get_form_of(territory, form_id)
    field = get_object_or_404(FormField, pk=field_id, form=obj)
    services.move_field(request.user, field, -1 if request.POST.get("direction") == "up" else 1)
    url = reverse("procedures:form_edit", kwargs={"slug": territory.slug, "form_id": obj.pk})
    return redirect(f"{url}#field-{field.pk}")


@territory_permission_required("procedures.manage_forms")
def teams(request, territory):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        emails = [e.strip().lower() for e in form.cleaned_data["members"].splitlines() if e.strip()]
        people = list(User.objects.filter(email__in=emails))
        unknown = sorted(set(emails) - {p.email.lower() for p in people})
        if unknown:
            form.add_error(
                "members", _("No account for: %(emails)s.") % {"emails": ", ".join(unknown)}
            )
        else:
            try:
                services.save_team(
                    request.user, territory, name=form.cleaned_data["name"], members=people
                )
            except PlatformError as error:
                _apply_error(form, error)
            else:
                messages.success(request, _("Team saved."))
                return redirect("procedures:teams", slug=territory.slug)
    items = Team.objects.filter(territory=territory).prefetch_related("members")
    return render(
        request,
        "procedures/admin/teams.html",
        admin_context(request, territory, teams=items, form=form),
        status=400 if form.errors else 200,
    )
