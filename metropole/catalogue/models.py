"""The service catalogue: competences, categories, services and their answers.

A `Competence` row says who runs a field of public action in a metropole (the metropole
itself, its EPT or each commune). A `Service` belongs to the territory that runs it, so
the services open to a citizen of a commune are that commune's own services plus those
the metropole (or its EPT) runs for every commune (see `queries.services_for`).
"""

import re

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from metropole.core.models import Territory
from metropole.core.text import normalize_name

_WORD_SEPARATORS = re.compile(r"[\s\-'’_.,;:!?()«»\"/]+")


def words(text: str) -> list[str]:
    """The normalised words of a text (accents, case and punctuation removed)."""
    return [w for w in (normalize_name(part) for part in _WORD_SEPARATORS.split(text or "")) if w]


class Holder(models.TextChoices):
    METROPOLE = "metropole", _("the metropole")
    EPT = "ept", _("the territorial establishment (EPT)")
    COMMUNE = "commune", _("each commune")


class Channel(models.TextChoices):
    ONLINE = "online", _("online")
    COUNTER = "counter", _("at the counter")
    PHONE = "phone", _("by phone")
    MAIL = "mail", _("by post")
    APP = "app", _("mobile app")


class Competence(models.Model):
    """A field of public action and the level that holds it in one metropole."""

    metropole = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="competences")
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    holder = models.CharField(_("held by"), max_length=16, choices=Holder.choices)

    class Meta:
        verbose_name = _("competence")
        verbose_name_plural = _("competences")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["metropole", "code"], name="unique_competence_code")
        ]

    def __str__(self):
        return self.name


class Category(models.Model):
    """A heading of the catalogue, shared by the metropole and its communes."""

    metropole = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(_("slug"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["metropole", "slug"], name="unique_category_slug")
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalogue:category", kwargs={"slug": self.slug})


class Service(models.Model):
    """A public service run by one territory (the metropole, an EPT or a commune)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="services")
    metropole = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="+", editable=False
    )
    title = models.CharField(_("title"), max_length=200)
    search_title = models.CharField(max_length=200, editable=False, db_index=True)
    search_text = models.TextField(editable=False, default="")
    slug = models.SlugField(_("slug"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="services", verbose_name=_("category")
    )
    competence = models.ForeignKey(
        Competence,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("competence"),
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    url = models.URLField(_("link to the service"), blank=True)
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    source = models.CharField(
        _("source"),
        max_length=300,
        blank=True,
        help_text=_("Where the description comes from (e.g. a deliberation)."),
    )
    is_demo = models.BooleanField(default=False, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["search_title"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="unique_service_slug"),
        ]
        indexes = [models.Index(fields=["metropole", "active", "search_title"])]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.metropole_id = self.territory.metropole_id or self.territory_id
        self.search_title = normalize_name(self.title)
        self.search_text = " ".join(words(f"{self.title} {self.summary} {self.description}"))
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "catalogue:service", kwargs={"territory": self.territory.slug, "slug": self.slug}
        )

    @property
    def channel_labels(self) -> list[str]:
        labels = dict(Channel.choices)
        return [labels.get(c, c) for c in self.channels]


class Answer(models.Model):
    """A knowledge-base answer: a question people ask about a service and its answer."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("knowledge-base answer")
        verbose_name_plural = _("knowledge-base answers")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(question=""), name="answer_has_question"),
        ]

    def __str__(self):
        return self.question
