"""Connectors of a territory (administration area): their endpoints, configuration and log."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metropole.core.exceptions import PermissionDenied, PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import services
from .models import Connector, ConnectorCall


@territory_permission_required("connectors.view_log")
def index(request, territory):
    connectors = Connector.objects.filter(territory=territory)
    calls = ConnectorCall.objects.filter(connector__territory=territory).select_related("connector")
    page = Paginator(calls, 30).get_page(request.GET.get("page"))
    can_manage = request.user.has_perm("connectors.manage", territory)
    error, values = None, {}
    if request.method == "POST":  # the service checks connectors.manage: 403 otherwise
        values = request.POST
        try:
            services.save_connector(
                request.user,
                territory,
                name=values.get("name", "").strip(),
                slug=values.get("slug", "").strip(),
                base_url=values.get("base_url", "").strip(),
                secret=values.get("secret", ""),
                endpoints=json.loads(values.get("endpoints") or "[]"),
            )
        except json.JSONDecodeError as exc:
            error = _("Endpoints: invalid JSON (line %(line)d, column %(col)d).") % {
                "line": exc.lineno,
                "col": exc.colno,
            }
        except PermissionDenied:
            raise
        except PlatformError as exc:
            error = f"{exc.title} — {exc.detail}"
        else:
            messages.success(request, _("Connector saved."))
            return redirect("connectors:index", slug=territory.slug)
    return render(
        request,
        "connectors/index.html",
        admin_context(
            request,
            territory,
            connectors=connectors,
            page=page,
            can_manage=can_manage,
            error=error,
            values=values,
        ),
        status=400 if error else 200,
    )


@require_POST
@territory_permission_required("connectors.manage")
def retry(request, territory, call_id):
    call = get_object_or_404(ConnectorCall, pk=call_id, connector__territory=territory)
    try:
        services.retry_call(request.user, call)
        messages.success(request, _("The call will be sent again."))
    except PlatformError as exc:
        messages.error(request, exc.detail or exc.title)
    return redirect("connectors:index", slug=territory.slug)
