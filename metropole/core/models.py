"""Core data: territories, people, roles, organisations, audit log and API tokens.

Tenancy is a shared-table model: every piece of content carries its territory and
roles are granted per territory (see DESIGN.md §3, "Tenancy").
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import normalize_name

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB, e.g. #1f3a93."))


class TerritoryKind(models.TextChoices):
    METROPOLE = "metropole", _("metropole")
    EPT = "ept", _("public territorial establishment")
    COMMUNE = "commune", _("commune")


class TerritoryQuerySet(models.QuerySet):
    def communes(self):
        return self.filter(kind=TerritoryKind.COMMUNE)

    def metropoles(self):
        return self.filter(kind=TerritoryKind.METROPOLE)

    def in_metropole(self, metropole):
        return self.filter(Q(pk=metropole.pk) | Q(metropole=metropole))


class Territory(models.Model):
    """A metropole, an EPT (Grand Paris' intermediate level) or a commune.

    `code` is the official identifier: SIREN for the metropole and EPTs, INSEE code
    for communes. `metropole` points at the root of the tree (itself excepted) so
    that "everything in this metropole" is one indexed filter whatever the depth.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=TerritoryKind.choices)
    code = models.CharField(_("official code"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=200)
    search_name = models.CharField(max_length=200, db_index=True, editable=False)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    metropole = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    population = models.PositiveIntegerField(_("population"), default=0)
    departement = models.CharField(_("département"), max_length=3, blank=True)
    # GeoJSON geometry in WGS84 and its bounding box (the prefilter of point queries).
    geometry = models.JSONField(null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    # Town hall as published in the reference data: address, phone, e-mail, website,
    # location and opening hours (see core/reference_data/README.md).
    town_hall = models.JSONField(default=dict, blank=True)
    has_joined = models.BooleanField(
        _("has joined the platform"),
        default=False,
        help_text=_("A commune that has joined publishes its own content and services."),
    )
    joined_at = models.DateTimeField(null=True, blank=True)
    # Branding and settings, managed by the territory's administrators.
    brand_name = models.CharField(
        _("displayed name"),
        max_length=200,
        blank=True,
        help_text=_("Leave empty to use the official name."),
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    primary_colour = models.CharField(
        _("primary colour"), max_length=7, blank=True, validators=[hex_colour]
    )
    accent_colour = models.CharField(
        _("accent colour"), max_length=7, blank=True, validators=[hex_colour]
    )
    tagline = models.CharField(_("welcome message"), max_length=300, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["search_name"]
        indexes = [
            models.Index(fields=["metropole", "kind", "search_name"]),
            models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"]),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        self.search_name = normalize_name(self.name)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name

    @property
    def is_commune(self) -> bool:
        return self.kind == TerritoryKind.COMMUNE

    @property
    def is_metropole(self) -> bool:
        return self.kind == TerritoryKind.METROPOLE

    @property
    def root(self) -> "Territory":
        """The metropole this territory belongs to (itself for a metropole)."""
        return self if self.metropole_id is None else self.metropole

    def get_absolute_url(self) -> str:
        if self.is_metropole:
            return reverse("core:home")
        return reverse("core:territory", kwargs={"slug": self.slug})


class PostalCode(models.Model):
    """One postal code of a commune; a code may serve several communes and vice versa."""

    code = models.CharField(max_length=5, db_index=True)
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="postal_codes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "territory"], name="unique_postal_code")
        ]
        ordering = ["code"]

    def __str__(self):
        return self.code


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified_at", timezone.now())
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """One account per person across the whole metropole, identified by e-mail."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    email_verified_at = models.DateTimeField(_("e-mail verified at"), null=True, blank=True)
    home_commune = models.ForeignKey(
        Territory,
        verbose_name=_("my commune"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": TerritoryKind.COMMUNE},
    )
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.email

    @property
    def email_is_verified(self) -> bool:
        return self.email_verified_at is not None


class OrganisationKind(models.TextChoices):
    COMPANY = "company", _("company")
    ASSOCIATION = "association", _("association")
    OPERATOR = "operator", _("operator")
    PUBLIC_BODY = "public_body", _("public body")


class Organisation(models.Model):
    """A partner of the metropole: company, association, operator or public body."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    siren = models.CharField(
        _("SIREN"),
        max_length=9,
        blank=True,
        validators=[RegexValidator(r"^\d{9}$", _("A SIREN has 9 digits."))],
    )
    metropole = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="organisations",
        limit_choices_to={"kind": TerritoryKind.METROPOLE},
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["metropole", "name"], name="unique_organisation_name")
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    """Roles are granted per territory; agent and administrator read as "commune agent",
    "metropole administrator", ... depending on the territory they are granted on."""

    CITIZEN = "citizen", _("citizen")
    AGENT = "agent", _("agent")
    ADMIN = "admin", _("administrator")
    PARTNER = "partner", _("partner member")
    ELECTED = "elected", _("elected official")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="members",
        help_text=_("Required for partner members."),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["territory__search_name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "territory", "role"], name="unique_role_per_territory"
            ),
            models.CheckConstraint(
                condition=Q(role=Role.PARTNER, organisation__isnull=False)
                | (~Q(role=Role.PARTNER) & Q(organisation__isnull=True)),
                name="partner_role_has_organisation",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.role_label} ({self.territory})"

    @property
    def role_label(self) -> str:
        return role_label(self.role, self.territory)


def role_label(role: str, territory: Territory) -> str:
    """The role as people say it: "commune agent", "metropole administrator", ..."""
    labels = {
        (Role.AGENT, TerritoryKind.COMMUNE): _("commune agent"),
        (Role.ADMIN, TerritoryKind.COMMUNE): _("commune administrator"),
        (Role.AGENT, TerritoryKind.METROPOLE): _("metropole agent"),
        (Role.ADMIN, TerritoryKind.METROPOLE): _("metropole administrator"),
        (Role.AGENT, TerritoryKind.EPT): _("EPT agent"),
        (Role.ADMIN, TerritoryKind.EPT): _("EPT administrator"),
    }
    return str(labels.get((role, territory.kind), Role(role).label))


class AuditEvent(models.Model):
    """A sensitive action (roles, settings, deletions): who, what, where, when.

    The actor's label is copied so that the trail stays readable after the
    account is deleted.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["territory", "-at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal access token for machine clients. Only a hash of the secret is kept."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        """A fresh secret: "mtp_" + prefix + random part, shown once to its owner."""
        return "mtp_" + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class OidcIdentity(models.Model):
    """A log-in of an OpenID Connect provider (FranceConnect, ProConnect) linked to an
    account: the provider's name as in settings.OIDC_PROVIDERS and its `sub` claim."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    provider = models.CharField(_("provider"), max_length=32)
    subject = models.CharField(_("subject"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("OpenID Connect identity")
        verbose_name_plural = _("OpenID Connect identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="unique_oidc_subject")
        ]

    def __str__(self):
        return f"{self.provider}:{self.subject}"
