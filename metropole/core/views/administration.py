"""A territory's administration area: members and roles, branding, communes, audit log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import queries, services
from ..exceptions import PlatformError
from ..forms import BrandingForm, GrantRoleForm, OrganisationForm
from ..models import Membership, Organisation, Territory
from ..registry import NAV_ADMIN, registry
from .helpers import territory_permission_required


@login_required
def index(request):
    administered = queries.territories_administered_by(request.user)
    total = administered.count()
    if total == 1:
        return redirect("core:admin_overview", slug=administered.get().slug)
    query = request.GET.get("q", "").strip()
    return render(
        request,
        "core/admin/index.html",
        {
            "territories": queries.administration_choices(administered, query)[:500],
            "total": total,
            "query": query,
        },
    )


def admin_context(request, territory: Territory, **extra):
    links = [
        {
            "label": e.label,
            "url": (url := reverse(e.url_name, kwargs={"slug": territory.slug})),
            "current": request.path == url,
        }
        for e in registry.navigation(NAV_ADMIN)
        if e.permission is None or request.user.has_perm(e.permission, territory)
    ]
    return {"territory": territory, "admin_nav": links, **extra}


@territory_permission_required("core.view_territory_admin")
def overview(request, territory):
    statistics = registry.figures(territory)
    return render(
        request,
        "core/admin/overview.html",
        admin_context(request, territory, statistics=statistics),
    )


@territory_permission_required("core.manage_members")
def members(request, territory):
    roles = services.ROLES_BY_KIND[territory.kind]
    form = GrantRoleForm(request.POST or None, territory=territory, roles=roles)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_role(
                request.user,
                form.cleaned_data["user"],
                territory,
                form.cleaned_data["role"],
                form.cleaned_data.get("organisation"),
            )
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The role is granted."))
            return redirect("core:admin_members", slug=territory.slug)
    page = Paginator(queries.members_of(territory), 50).get_page(request.GET.get("page"))
    return render(
        request, "core/admin/members.html", admin_context(request, territory, form=form, page=page)
    )


@require_POST
@territory_permission_required("core.manage_members")
def revoke(request, territory, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, territory=territory)
    try:
        services.revoke_role(request.user, membership)
    except PlatformError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("The role is withdrawn."))
    return redirect("core:admin_members", slug=territory.slug)


@territory_permission_required("core.change_territory")
def branding(request, territory):
    form = BrandingForm(request.POST or None, request.FILES or None, instance=territory)
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in services.BRANDING_FIELDS}
        logo = request.FILES.get("logo")
        # The form already wrote its values on the instance; reload so the service sees
        # what is stored and records exactly what changed.
        territory.refresh_from_db()
        try:
            services.update_branding(
                request.user,
                territory,
                logo=logo,
                remove_logo=form.cleaned_data["remove_logo"],
                **values,
            )
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The branding is saved."))
            return redirect("core:admin_branding", slug=territory.slug)
    return render(request, "core/admin/branding.html", admin_context(request, territory, form=form))


@territory_permission_required("core.manage_communes")
def communes(request, territory):
    return render(
        request,
        "core/admin/communes.html",
        admin_context(request, territory, communes=queries.commune_links(territory)),
    )


@require_POST
@territory_permission_required("core.manage_communes")
def commune_membership(request, territory, code):
    commune = queries.territory_by_code(code, territory)
    joined = request.POST.get("joined") == "1"
    services.set_commune_joined(request.user, commune, joined)
    messages.success(
        request,
        (_("%(name)s has joined the platform.") if joined else _("%(name)s has left the platform."))
        % {"name": commune.name},
    )
    return redirect("core:admin_communes", slug=territory.slug)


@territory_permission_required("core.manage_organisations")
def organisations(request, territory):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_organisation(request.user, territory, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The organisation is added."))
            return redirect("core:admin_organisations", slug=territory.slug)
    return render(
        request,
        "core/admin/organisations.html",
        admin_context(
            request,
            territory,
            form=form,
            organisations=Organisation.objects.filter(metropole=territory),
        ),
    )


@territory_permission_required("core.view_audit_log")
def audit_log(request, territory):
    page = Paginator(queries.audit_log_of(territory), 50).get_page(request.GET.get("page"))
    return render(request, "core/admin/audit.html", admin_context(request, territory, page=page))
