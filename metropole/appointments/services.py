"""Write paths of appointments: booking (citizens and agents), cancellation by a signed
link, statuses, waiting list, reminders. Transactional, permission-checked, audited."""

from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest, Conflict, NotFound, PermissionDenied
from metropole.core.rules import require_perm
from metropole.core.services import audit

from . import notify, slots
from .models import FREEING, Appointment, AppointmentType, Hold, Status, WaitingEntry

CANCEL_SALT = "appointments.cancel"
REMINDER_BEFORE = timedelta(hours=48)
AGENT_STATUSES = (Status.SEEN, Status.EXCUSED, Status.NO_SHOW, Status.CANCELLED_BY_SERVICE)


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def cancel_token(appointment: Appointment) -> str:
    return signing.dumps({"a": appointment.pk, "n": appointment.nonce}, salt=CANCEL_SALT)


def cancel_url(appointment: Appointment, base_url: str) -> str:
    path = reverse("appointments:mine_one", kwargs={"token": cancel_token(appointment)})
    return base_url.rstrip("/") + path


def _validate_contact(name: str, email: str, phone: str) -> None:
    if not name:
        raise BadRequest(
            _("Missing name"), _("Give the name of the person expected."), field="name"
        )
    if not email and not phone:
        raise BadRequest(
            _("Missing contact"),
            _("Give an e-mail address or a mobile phone number for the confirmation."),
            field="email",
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise BadRequest(
                _("Invalid e-mail address"),
                _("“%(email)s” is not an e-mail address.") % {"email": email},
                field="email",
            ) from None


def book(
    actor,
    appointment_type: AppointmentType,
    start: datetime,
    *,
    name: str,
    email: str = "",
    phone: str = "",
    base_url: str = "",
    agent_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book `start` for `appointment_type`; an agent of the territory may book on someone's
    behalf (channel "counter"), and then the minimum booking delay does not apply.

    Each agent free at that time is tried in turn; the unique (agent, start) of `Hold`
    decides between two people booking at once: one gets the slot, the other a Conflict.
    """
    agenda = appointment_type.agenda
    if not (agenda.active and appointment_type.active):
        raise NotFound(_("Closed agenda"), _("This agenda does not take appointments."))
    now = now or timezone.now()
    by_agent = actor is not None and actor.has_perm("appointments.manage_agenda", agenda.territory)
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    _validate_contact(name, email, phone)
    if timezone.is_naive(start):
        start = timezone.make_aware(start, slots.LOCAL)
    if start <= now:
        raise Conflict(_("Time passed"), _("This time is already past."), field="start")
    day = timezone.localtime(start, slots.LOCAL).date()
    check_now = now - timedelta(hours=appointment_type.min_delay_hours) if by_agent else now
    offered = {
        s.start: s for s in slots.free_slots(agenda, appointment_type, day, day, now=check_now)
    }
    slot = offered.get(start)
    if slot is None:
        raise Conflict(
            _("Slot not available"),
            _("The time %(when)s is not free (or not open to booking). Choose another one.")
            % {"when": _when(start)},
            field="start",
        )
    candidates = [agent_id] if agent_id else list(slot.agent_ids)
    if agent_id and agent_id not in slot.agent_ids:
        raise Conflict(_("Slot not available"), _("This agent is not free at that time."))
    step = timedelta(minutes=agenda.slot_minutes)
    steps = -(-appointment_type.duration_minutes // agenda.slot_minutes)
    for candidate in candidates:
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    agenda=agenda,
                    type=appointment_type,
                    agent_id=candidate,
                    start=start,
                    end=slot.end,
                    user=None if by_agent or actor is None or not actor.is_authenticated else actor,
                    name=name,
                    email=email,
                    phone=phone,
                    booked_by=actor if by_agent else None,
                    channel="counter" if by_agent else "web",
                )
                Hold.objects.bulk_create(
                    [
                        Hold(appointment=appointment, agent_id=candidate, start=start + k * step)
                        for k in range(steps)
                    ]
                )
                audit(
                    actor, "appointments.booked", agenda.territory, appointment, by_agent=by_agent
                )
                _confirm(appointment, base_url)
            return appointment
        except IntegrityError:
            continue
    raise Conflict(
        _("Slot just taken"),
        _("Someone booked %(when)s a moment ago. Choose another time.") % {"when": _when(start)},
        field="start",
    )


def _confirm(appointment: Appointment, base_url: str) -> None:
    agenda = appointment.agenda
    lines = [
        _("Your appointment is confirmed."),
        f"{appointment.type.name} — {agenda.name}",
        _when(appointment.start),
        f"{agenda.place_name} {agenda.address}".strip(),
        appointment.type.get_mode_display(),
    ]
    if base_url:
        lines.append(_("To cancel: %(url)s") % {"url": cancel_url(appointment, base_url)})
    notify.send(
        appointment,
        subject=_("Appointment confirmed: %(when)s") % {"when": _when(appointment.start)},
        body="\n".join(line for line in lines if line),
        source="appointments.confirmation",
    )


def appointment_from_token(token: str) -> Appointment:
    """The appointment a cancellation link names, or a clear refusal."""
    try:
        data = signing.loads(token, salt=CANCEL_SALT, max_age=timedelta(days=400))
    except signing.SignatureExpired:
        raise Conflict(_("Link expired"), _("This cancellation link has expired.")) from None
    except signing.BadSignature:
        raise BadRequest(
            _("Invalid link"),
            _("This cancellation link is damaged: copy it whole from the message."),
        ) from None
    appointment = (
        Appointment.objects.select_related("agenda__territory", "type")
        .filter(pk=data.get("a"))
        .first()
    )
    if appointment is None:
        raise NotFound(_("Unknown appointment"), _("This appointment no longer exists."))
    if appointment.nonce != data.get("n") or appointment.status != Status.BOOKED:
        raise Conflict(
            _("Link already used"),
            _(
                "This appointment is already cancelled or was handled: "
                "the link cannot be used again."
            ),
        )
    if appointment.start <= timezone.now():
        raise Conflict(
            _("Link expired"),
            _("The appointment of %(when)s has passed; it can no longer be cancelled.")
            % {"when": _when(appointment.start)},
        )
    return appointment


@transaction.atomic
def cancel_with_token(token: str) -> Appointment:
    appointment = appointment_from_token(token)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != Status.BOOKED:
        raise Conflict(_("Link already used"), _("This appointment is already cancelled."))
    _free(appointment, Status.CANCELLED, None)
    return appointment


@transaction.atomic
def cancel_own(actor, appointment: Appointment) -> Appointment:
    if actor is None or not actor.is_authenticated or appointment.user_id != actor.pk:
        raise PermissionDenied(
            _("Not your appointment"), _("You can only cancel your own appointments.")
        )
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != Status.BOOKED or appointment.start <= timezone.now():
        raise Conflict(_("Cannot cancel"), _("Only a future booked appointment can be cancelled."))
    _free(appointment, Status.CANCELLED, actor)
    return appointment


def _free(appointment: Appointment, status: str, actor) -> None:
    before = appointment.status
    appointment.status = status
    appointment.status_changed_at = timezone.now()
    appointment.nonce = ""
    appointment.save(update_fields=["status", "status_changed_at", "nonce"])
    appointment.holds.all().delete()
    audit(
        actor,
        "appointments.status",
        appointment.agenda.territory,
        appointment,
        before=before,
        after=status,
    )
    if appointment.start > timezone.now():
        _tell_waiting_list(appointment)


def _tell_waiting_list(appointment: Appointment) -> None:
    entry = (
        WaitingEntry.objects.select_for_update()
        .filter(agenda=appointment.agenda, type=appointment.type, notified_at__isnull=True)
        .order_by("created_at", "pk")
        .first()
    )
    if entry is None:
        return
    entry.notified_at = timezone.now()
    entry.save(update_fields=["notified_at"])
    notify.send_to_address(
        entry.email,
        subject=_("A time is free: %(name)s") % {"name": appointment.agenda.name},
        body=_("A time has become free on %(when)s for “%(type)s”. Book it on the website.")
        % {"when": _when(appointment.start), "type": appointment.type.name},
        source="appointments.waiting_list",
        territory=appointment.agenda.territory,
    )


@transaction.atomic
def set_status(actor, appointment: Appointment, status: str) -> Appointment:
    """Seen, excused, no-show or cancelled by the service: agents of the territory only."""
    require_perm(actor, "appointments.manage_agenda", appointment.agenda.territory)
    if status not in AGENT_STATUSES:
        raise BadRequest(
            _("Unknown status"), _("Choose seen, excused, no-show or cancelled."), field="status"
        )
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("agenda")
        .get(pk=appointment.pk)
    )
    if appointment.status in FREEING:
        raise Conflict(
            _("Already cancelled"),
            _("This appointment was cancelled; its time may be booked again."),
        )
    if status in (Status.SEEN, Status.NO_SHOW) and appointment.start > timezone.now():
        raise Conflict(
            _("Not yet"), _("An appointment is marked seen or missed once its time has come.")
        )
    if status in FREEING:
        _free(appointment, status, actor)
        if status == Status.CANCELLED_BY_SERVICE:
            notify.send(
                appointment,
                subject=_("Appointment cancelled: %(when)s") % {"when": _when(appointment.start)},
                body=_("We are sorry: the service had to cancel your appointment of %(when)s.")
                % {"when": _when(appointment.start)},
                source="appointments.cancelled_by_service",
            )
        return appointment
    before = appointment.status
    appointment.status = status
    appointment.status_changed_at = timezone.now()
    appointment.nonce = ""
    appointment.save(update_fields=["status", "status_changed_at", "nonce"])
    audit(
        actor,
        "appointments.status",
        appointment.agenda.territory,
        appointment,
        before=before,
        after=status,
    )
    return appointment


@transaction.atomic
def join_waiting_list(actor, appointment_type: AppointmentType, email: str) -> WaitingEntry:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise BadRequest(
            _("Invalid e-mail address"),
            _("“%(email)s” is not an e-mail address.") % {"email": email},
            field="email",
        ) from None
    try:
        with transaction.atomic():
            return WaitingEntry.objects.create(
                agenda=appointment_type.agenda,
                type=appointment_type,
                email=email,
                user=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        raise Conflict(
            _("Already waiting"), _("This address is already on the waiting list.")
        ) from None


def send_due_reminders(base_url: str = "", now: datetime | None = None) -> int:
    """Remind people 48 hours before (appointments booked earlier than that); run it
    every few minutes (`manage.py send_appointment_reminders`). Returns how many."""
    now = now or timezone.now()
    due = Appointment.objects.filter(
        status=Status.BOOKED,
        reminder_sent_at__isnull=True,
        start__gt=now,
        start__lte=now + REMINDER_BEFORE,
    ).select_related("agenda__territory", "type")
    count = 0
    for appointment in due:
        if appointment.created_at > appointment.start - REMINDER_BEFORE:
            continue  # booked less than 48 h before: the confirmation is recent enough
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=appointment.pk, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            lines = [
                _("Reminder: you have an appointment on %(when)s.")
                % {"when": _when(appointment.start)},
                f"{appointment.type.name} — {appointment.agenda.name}",
                f"{appointment.agenda.place_name} {appointment.agenda.address}".strip(),
            ]
            if base_url:
                lines.append(
                    _("If you cannot come, cancel it: %(url)s")
                    % {"url": cancel_url(appointment, base_url)}
                )
            notify.send(
                appointment,
                subject=_("Reminder: appointment on %(when)s") % {"when": _when(appointment.start)},
                body="\n".join(line for line in lines if line),
                source="appointments.reminder",
            )
        count += 1
    return count


# --- RGPD ---------------------------------------------------------------------------------


def export_personal_data(user) -> list[dict]:
    return [
        {
            "agenda": a.agenda.name,
            "type": a.type.name,
            "start": a.start.isoformat(),
            "status": a.status,
            "name": a.name,
            "email": a.email,
            "phone": a.phone,
        }
        for a in Appointment.objects.filter(user=user).select_related("agenda", "type")
    ]


@transaction.atomic
def erase_personal_data(user) -> None:
    """Appointments stay for the statistics, without the person."""
    Appointment.objects.filter(user=user).update(user=None, name="—", email="", phone="")
    WaitingEntry.objects.filter(user=user).delete()


# --- agendas (back-office) ---------------------------------------------------------------


def _hours(text: str) -> list:
    try:
        return slots.parse_osm_hours(text)
    except ValueError as error:
        raise BadRequest(
            _("Opening hours not understood"), str(error), field="opening_hours"
        ) from None


@transaction.atomic
def save_agenda(actor, territory, *, agenda=None, **values):
    """Create or update an agenda of `territory`. `opening_hours` is text in the OSM
    syntax; empty means the town hall's hours."""
    from .models import Agenda

    require_perm(actor, "appointments.manage_agenda", territory)
    name = (values.get("name") or "").strip()
    if not name:
        raise BadRequest(_("Missing name"), _("Give the agenda a name."), field="name")
    service = values.get("service")
    if service is not None and service.territory_id != territory.pk:
        raise BadRequest(
            _("Wrong service"), _("Choose a service of this territory."), field="service"
        )
    hours = _hours(values.get("opening_hours_text", ""))
    if not hours and not (territory.town_hall or {}).get("opening_hours"):
        raise BadRequest(
            _("Opening hours needed"),
            _("This territory has no published town hall hours: write the agenda's hours."),
            field="opening_hours",
        )
    created = agenda is None
    agenda = agenda or Agenda(territory=territory)
    agenda.name = name
    agenda.service = service
    agenda.place_name = (values.get("place_name") or "").strip()
    agenda.address = (values.get("address") or "").strip()
    agenda.opening_hours = hours
    agenda.slot_minutes = values.get("slot_minutes") or 15
    agenda.closed_on_school_holidays = bool(values.get("closed_on_school_holidays"))
    agenda.active = bool(values.get("active", True))
    agenda.save()
    audit(
        actor,
        "appointments.agenda_created" if created else "appointments.agenda_updated",
        territory,
        agenda,
    )
    return agenda


@transaction.atomic
def add_type(actor, agenda, *, name, duration_minutes, min_delay_hours, max_delay_days, mode):
    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    if max_delay_days * 24 <= min_delay_hours:
        raise BadRequest(
            _("Delays do not fit"),
            _("The maximum delay must be longer than the minimum delay."),
            field="max_delay_days",
        )
    kind = AppointmentType.objects.create(
        agenda=agenda,
        name=name.strip(),
        duration_minutes=duration_minutes,
        min_delay_hours=min_delay_hours,
        max_delay_days=max_delay_days,
        mode=mode,
    )
    audit(actor, "appointments.type_added", agenda.territory, agenda, type=kind.name)
    return kind


@transaction.atomic
def add_agent(actor, agenda, *, name):
    from .models import Agent

    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    agent = Agent.objects.create(agenda=agenda, name=name.strip())
    audit(actor, "appointments.agent_added", agenda.territory, agenda, agent=agent.name)
    return agent


@transaction.atomic
def add_absence(actor, agent, *, start, end, reason=""):
    from .models import Absence

    require_perm(actor, "appointments.manage_agenda", agent.agenda.territory)
    if end <= start:
        raise BadRequest(
            _("Dates in the wrong order"), _("The absence must end after it starts."), field="end"
        )
    absence = Absence.objects.create(agent=agent, start=start, end=end, reason=reason.strip())
    audit(
        actor, "appointments.absence_added", agent.agenda.territory, agent.agenda, agent=agent.name
    )
    return absence


@transaction.atomic
def add_closure(actor, agenda, *, first_day, last_day, reason=""):
    from .models import Closure

    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    if last_day < first_day:
        raise BadRequest(
            _("Dates in the wrong order"),
            _("The last day comes before the first."),
            field="last_day",
        )
    closure = Closure.objects.create(
        agenda=agenda, first_day=first_day, last_day=last_day, reason=reason.strip()
    )
    audit(
        actor,
        "appointments.closure_added",
        agenda.territory,
        agenda,
        first=str(first_day),
        last=str(last_day),
    )
    return closure


# --- back-office edits: agents, absences, appointment types ------------------------------------


def _future_bookings(**filters):
    return Appointment.objects.filter(
        status=Status.BOOKED, start__gte=timezone.now(), **filters
    ).count()


@transaction.atomic
def update_agent(actor, agent, *, name, active=True):
    """Rename an agent, or (de)activate them: an inactive agent is offered no new slot;
    appointments already booked with them stay (the result says how many, so the service
    can move or cancel them from the day view)."""
    from .models import Agent

    require_perm(actor, "appointments.manage_agenda", agent.agenda.territory)
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    name = (name or "").strip()
    if not name:
        raise BadRequest(_("Name needed"), _("Give the agent or counter a name."), field="name")
    was_active = agent.active
    agent.name, agent.active = name, bool(active)
    agent.save(update_fields=["name", "active"])
    audit(
        actor,
        "appointments.agent_changed",
        agent.agenda.territory,
        agent.agenda,
        agent=agent.name,
        active=agent.active,
    )
    if was_active and not agent.active:
        return _future_bookings(agent=agent)
    return 0


@transaction.atomic
def delete_agent(actor, agent) -> None:
    """Delete an agent who never had an appointment (one with a history is deactivated)."""
    require_perm(actor, "appointments.manage_agenda", agent.agenda.territory)
    future = _future_bookings(agent=agent)
    if future:
        raise Conflict(
            _("Appointments booked"),
            _(
                "%(name)s has %(n)d appointment(s) to come: deactivate them instead (no new "
                "booking), then move or cancel those appointments."
            )
            % {"name": agent.name, "n": future},
        )
    if agent.appointments.exists():
        raise Conflict(
            _("Kept for the history"),
            _(
                "%(name)s received people: their appointments stay in the statistics. "
                "Deactivate them instead."
            )
            % {"name": agent.name},
        )
    audit(
        actor, "appointments.agent_deleted", agent.agenda.territory, agent.agenda, agent=agent.name
    )
    agent.delete()


def _check_absence(start, end):
    if end <= start:
        raise BadRequest(
            _("Dates in the wrong order"), _("The absence must end after it starts."), field="end"
        )


@transaction.atomic
def update_absence(actor, absence, *, agent, start, end, reason=""):
    """Change an absence's agent, dates or reason. Appointments already booked in it stay
    (the result says how many, to move or cancel them)."""
    require_perm(actor, "appointments.manage_agenda", absence.agent.agenda.territory)
    if agent.agenda_id != absence.agent.agenda_id:
        raise BadRequest(_("Wrong agent"), _("Choose an agent of this agenda."), field="agent")
    _check_absence(start, end)
    absence.agent, absence.start, absence.end = agent, start, end
    absence.reason = (reason or "").strip()
    absence.save()
    audit(
        actor,
        "appointments.absence_changed",
        agent.agenda.territory,
        agent.agenda,
        agent=agent.name,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return _future_bookings(agent=agent, start__lt=end, end__gt=start)


@transaction.atomic
def delete_absence(actor, absence) -> None:
    agenda = absence.agent.agenda
    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    audit(
        actor,
        "appointments.absence_deleted",
        agenda.territory,
        agenda,
        agent=absence.agent.name,
        start=absence.start.isoformat(),
    )
    absence.delete()


@transaction.atomic
def update_type(
    actor,
    appointment_type,
    *,
    name,
    duration_minutes,
    min_delay_hours,
    max_delay_days,
    mode,
    active=True,
):
    """Change an appointment type. A new duration applies to new bookings; those already
    made keep their times. An inactive type is no longer offered."""
    from .models import Mode

    agenda = appointment_type.agenda
    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    name = (name or "").strip()
    if not name:
        raise BadRequest(_("Name needed"), _("Give the type a name."), field="name")
    if mode not in Mode.values:
        raise BadRequest(_("Unknown mode"), _("Choose how the appointment happens."), field="mode")
    if not 5 <= duration_minutes <= 480:
        raise BadRequest(
            _("Duration out of range"),
            _("A duration of 5 to 480 minutes."),
            field="duration_minutes",
        )
    if max_delay_days < 1 or max_delay_days * 24 <= min_delay_hours:
        raise BadRequest(
            _("Delays do not fit"),
            _("The maximum delay must be longer than the minimum delay."),
            field="max_delay_days",
        )
    appointment_type.name = name
    appointment_type.duration_minutes = duration_minutes
    appointment_type.min_delay_hours = min_delay_hours
    appointment_type.max_delay_days = max_delay_days
    appointment_type.mode = mode
    appointment_type.active = bool(active)
    appointment_type.save()
    audit(
        actor,
        "appointments.type_changed",
        agenda.territory,
        agenda,
        type=name,
        active=appointment_type.active,
    )
    return appointment_type


@transaction.atomic
def delete_type(actor, appointment_type) -> None:
    """Delete a type never booked. One with bookings to come is refused (deactivate it: no
    new booking, those made stay); one with past appointments too (they are the
    statistics)."""
    agenda = appointment_type.agenda
    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    future = _future_bookings(type=appointment_type)
    if future:
        raise Conflict(
            _("Bookings to come"),
            _(
                "“%(name)s” has %(n)d booking(s) to come and cannot be deleted. Deactivate it "
                "instead: nobody can book it any more, and those appointments stay."
            )
            % {"name": appointment_type.name, "n": future},
        )
    if Appointment.objects.filter(type=appointment_type).exists():
        raise Conflict(
            _("Kept for the history"),
            _(
                "“%(name)s” was booked before: its appointments stay in the statistics. "
                "Deactivate it instead."
            )
            % {"name": appointment_type.name},
        )
    audit(actor, "appointments.type_deleted", agenda.territory, agenda, type=appointment_type.name)
    appointment_type.delete()


@transaction.atomic
def delete_closure(actor, closure) -> None:
    agenda = closure.agenda
    require_perm(actor, "appointments.manage_agenda", agenda.territory)
    audit(
        actor,
        "appointments.closure_deleted",
        agenda.territory,
        agenda,
        first=str(closure.first_day),
        last=str(closure.last_day),
    )
    closure.delete()
