"""The notification log of a territory, in its administration area."""

from django.core.paginator import Paginator
from django.shortcuts import render

from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import queries
from .models import Channel, Status


@territory_permission_required("notifications.view_log")
def log(request, territory):
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    status = status if status in Status.values else ""
    channel = channel if channel in Channel.values else ""
    notifications = queries.notifications_of(territory, status=status, channel=channel)
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/log.html",
        admin_context(
            request,
            territory,
            page=page,
            statuses=Status.choices,
            channels=Channel.choices,
            status=status,
            channel=channel,
        ),
    )
