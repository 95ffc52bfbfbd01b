"""Appointments API: agendas, free times, booking and cancellation (same services and
rules as the pages)."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from metropole.core import queries as core_queries
from metropole.core.api_auth import person_auth
from metropole.core.exceptions import BadRequest

from . import queries, services, slots

router = Router(tags=["appointments"])


class TypeOut(Schema):
    id: int
    name: str
    duration_minutes: int
    mode: str
    min_delay_hours: int
    max_delay_days: int


class AgendaOut(Schema):
    id: int
    name: str
    territory_code: str
    place_name: str
    address: str
    service: str | None = None
    types: list[TypeOut]

    @staticmethod
    def resolve_territory_code(obj) -> str:
        return obj.territory.code

    @staticmethod
    def resolve_service(obj) -> str | None:
        return obj.service.slug if obj.service_id else None

    @staticmethod
    def resolve_types(obj) -> list:
        return [t for t in obj.types.all() if t.active]


class SlotOut(Schema):
    start: datetime
    end: datetime
    free: int = Field(description="How many agents are free at that time")


class BookingIn(Schema):
    type: int
    start: datetime
    name: str
    email: str = ""
    phone: str = ""


class AppointmentOut(Schema):
    id: int
    start: datetime
    end: datetime
    status: str
    agenda: str
    type: str
    cancel_url: str

    @staticmethod
    def resolve_agenda(obj) -> str:
        return obj.agenda.name

    @staticmethod
    def resolve_type(obj) -> str:
        return obj.type.name

    @staticmethod
    def resolve_cancel_url(obj, context) -> str:
        return services.cancel_url(obj, context["request"].build_absolute_uri("/"))


@router.get("/agendas", response=list[AgendaOut], url_name="agendas")
def agenda_list(request, commune: str = Query("", description="INSEE code")):
    metropole = core_queries.current_metropole()
    place = core_queries.territory_by_code(commune, metropole) if commune else metropole
    return list(queries.agendas_for(place).prefetch_related("types"))


@router.get("/agendas/{agenda_id}/slots", response=list[SlotOut], url_name="agenda_slots")
def agenda_slots(
    request,
    agenda_id: int,
    type: int,
    start: date | None = None,
    days: int = Query(7, ge=1, le=62),
):
    agenda = queries.agenda_detail(agenda_id)
    appointment_type = queries.type_of(agenda, type)
    first = start or timezone.localdate()
    found = slots.free_slots(agenda, appointment_type, first, first + timedelta(days=days - 1))
    return [{"start": s.start, "end": s.end, "free": s.free} for s in found]


@router.post(
    "/agendas/{agenda_id}/appointments",
    response={201: AppointmentOut},
    auth=person_auth,
    url_name="agenda_book",
)
def agenda_book(request, agenda_id: int, payload: BookingIn):
    agenda = queries.agenda_detail(agenda_id)
    appointment_type = queries.type_of(agenda, payload.type)
    if timezone.is_naive(payload.start):
        raise BadRequest(
            "Time zone required", "Give start with its offset, e.g. +01:00.", field="start"
        )
    appointment = services.book(
        request.auth,
        appointment_type,
        payload.start,
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        base_url=request.build_absolute_uri("/"),
    )
    return 201, appointment


@router.post("/cancel/{token}", response=AppointmentOut, url_name="appointment_cancel")
def cancel(request, token: str):
    return services.cancel_with_token(token)
