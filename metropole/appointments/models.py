"""Appointments (rendez-vous), after RDV-Solidarités and Publik chrono.

An `Agenda` belongs to a territory, serves a catalogue service at one place, and opens
along weekly hours (its own, or its town hall's from the reference data). Its `Agent`s
each take one appointment at a time. An `Appointment` holds one `Hold` row per grid step
it covers, and `Hold` is unique per (agent, start): two people booking the same agent's
slot at once cannot both succeed, whatever the database. A cancelled or excused
appointment drops its holds and frees the slot.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from metropole.catalogue.models import Service
from metropole.core.models import Territory


class Agenda(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="agendas")
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agendas",
        verbose_name=_("service"),
    )
    name = models.CharField(_("name"), max_length=200)
    place_name = models.CharField(_("place"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # Weekly hours in the reference data's format [[first_day, last_day, [[opens, closes]]]];
    # empty: the territory's town hall hours.
    opening_hours = models.JSONField(_("opening hours"), default=list, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("grid step (minutes)"), default=15)
    closed_on_school_holidays = models.BooleanField(
        _("closed during school holidays"), default=False
    )
    active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("agenda")
        verbose_name_plural = _("agendas")
        ordering = ["territory__search_name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240), name="agenda_step_range"
            )
        ]

    def __str__(self):
        return f"{self.name} — {self.territory}"

    def get_absolute_url(self) -> str:
        return reverse("appointments:agenda", kwargs={"pk": self.pk})

    @property
    def hours_source(self):
        return self.opening_hours or (self.territory.town_hall or {}).get("opening_hours") or []


class Agent(models.Model):
    """Someone who receives people in an agenda (an account or just a name)."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="agents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class Absence(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="absences")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="absence_order")
        ]

    def __str__(self):
        return f"{self.agent} {self.start:%Y-%m-%d}"


class Closure(models.Model):
    """Days an agenda is closed besides public holidays (e.g. a town hall's bridge day)."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="closures")
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=F("first_day")), name="closure_order")
        ]

    def __str__(self):
        return f"{self.agenda} {self.first_day}–{self.last_day}"


class Mode(models.TextChoices):
    OFFICE = "office", _("at the office")
    PHONE = "phone", _("by phone")
    VIDEO = "video", _("by video")


class AppointmentType(models.Model):
    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="types")
    name = models.CharField(_("name"), max_length=200)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=15)
    min_delay_hours = models.PositiveIntegerField(_("booking at least (hours before)"), default=2)
    max_delay_days = models.PositiveIntegerField(_("booking at most (days before)"), default=60)
    mode = models.CharField(_("how"), max_length=10, choices=Mode.choices, default=Mode.OFFICE)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("appointment type")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="type_duration_range",
            ),
            models.CheckConstraint(condition=Q(max_delay_days__gte=1), name="type_max_delay"),
        ]

    def __str__(self):
        return self.name


class Status(models.TextChoices):
    BOOKED = "booked", _("booked")
    SEEN = "seen", _("seen")
    EXCUSED = "excused", _("excused")
    CANCELLED = "cancelled", _("cancelled by the citizen")
    CANCELLED_BY_SERVICE = "cancelled_by_service", _("cancelled by the service")
    NO_SHOW = "no_show", _("no-show")


# Statuses that free the slot.
FREEING = (Status.EXCUSED, Status.CANCELLED, Status.CANCELLED_BY_SERVICE)


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class Appointment(models.Model):
    agenda = models.ForeignKey(Agenda, on_delete=models.PROTECT, related_name="appointments")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField(_("start"), db_index=True)
    end = models.DateTimeField(_("end"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=30, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, default="web")
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.BOOKED, db_index=True
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # Part of the signed cancellation link; cleared once the link is used.
    nonce = models.CharField(max_length=32, default=new_nonce, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["agenda", "start"])]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="appt_order")]

    def __str__(self):
        return f"{self.start:%Y-%m-%d %H:%M} {self.agenda}"

    @property
    def is_active(self) -> bool:
        return self.status == Status.BOOKED


class Hold(models.Model):
    """One grid step of an agent taken by an appointment; unique per agent and start."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="holds")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "start"], name="one_appointment_per_agent_slot"
            )
        ]

    def __str__(self):
        return f"{self.agent_id}@{self.start:%Y-%m-%d %H:%M}"


class WaitingEntry(models.Model):
    """Someone who found no free slot and wants to hear when one frees up."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="waiting")
    type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agenda", "type", "email"],
                condition=Q(notified_at__isnull=True),
                name="one_waiting_entry_per_person",
            )
        ]

    def __str__(self):
        return f"{self.email} waits for {self.type}"


AGENT_STATUSES_CHOICES = [
    (s.value, s.label)
    for s in (Status.SEEN, Status.NO_SHOW, Status.EXCUSED, Status.CANCELLED_BY_SERVICE)
]
