"""Every write path of the core: one function per use case, transactional,
permission-checked and audited. Views and API endpoints call these, never the ORM."""

import hashlib

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import devices_for_user

from . import reference, signals, tasks
from .colours import require_readable_on_white
from .exceptions import BadRequest, Conflict, NotFound, PermissionDenied, from_validation_error
from .geo import bounding_box
from .models import (
    ApiToken,
    AuditEvent,
    Membership,
    OidcIdentity,
    Organisation,
    PostalCode,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from .oidc import PROVIDERS_WITH_VERIFIED_EMAILS
from .registry import registry
from .rules import forget_roles, require_perm

# --- audit -----------------------------------------------------------------------------


def audit(actor, action: str, territory=None, obj=None, **details) -> AuditEvent:
    """Record a sensitive action; `details` must be JSON-serialisable."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=(actor.email if actor is not None and actor.is_authenticated else "system"),
        action=action,
        territory=territory,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=details,
    )


# --- territories -----------------------------------------------------------------------


@transaction.atomic
def load_metropole(siren: str, *, has_joined: bool = False) -> Territory:
    """Create or update a metropole, its EPTs and its communes from the reference data.

    Idempotent: a second run updates names, populations, contours and town halls and
    keeps what administrators set (branding, settings, joined communes).
    """
    data = reference.metropole(siren)
    metropole, _created = Territory.objects.update_or_create(
        code=data["siren"],
        defaults={
            "kind": TerritoryKind.METROPOLE,
            "name": data["name"],
            "slug": slugify(data["name"])[:200],
            "population": data["population"] or 0,
        },
    )
    parent_of = {}
    for ept in data.get("epts", []):
        ept_territory, _ = Territory.objects.update_or_create(
            code=ept["siren"],
            defaults={
                "kind": TerritoryKind.EPT,
                "name": ept["name"],
                "slug": slugify(ept["name"])[:200],
                "population": ept["population"] or 0,
                "parent": metropole,
                "metropole": metropole,
            },
        )
        parent_of.update({insee: ept_territory for insee in ept["communes"]})

    communes = reference.communes(siren)
    existing = {
        t.code: t for t in Territory.objects.filter(code__in=[c["insee"] for c in communes])
    }
    for commune in communes:
        territory = existing.get(commune["insee"]) or Territory(
            code=commune["insee"],
            kind=TerritoryKind.COMMUNE,
            has_joined=has_joined,
            joined_at=timezone.now() if has_joined else None,
        )
        territory.name = commune["name"]
        territory.slug = f"{slugify(commune['name'])}-{commune['insee']}"
        territory.population = commune["population"] or 0
        territory.departement = commune.get("departement") or ""
        territory.parent = parent_of.get(commune["insee"], metropole)
        territory.metropole = metropole
        territory.town_hall = commune.get("town_hall") or {}
        territory.geometry = commune["geometry"]
        (territory.min_lon, territory.min_lat, territory.max_lon, territory.max_lat) = bounding_box(
            commune["geometry"]
        )
        territory.save()
        PostalCode.objects.filter(territory=territory).exclude(
            code__in=commune["postal_codes"]
        ).delete()
        PostalCode.objects.bulk_create(
            [PostalCode(code=code, territory=territory) for code in commune["postal_codes"]],
            ignore_conflicts=True,
        )
    # Communes that left the metropole since the last load are detached, not deleted:
    # their content stays.
    Territory.objects.filter(metropole=metropole, kind=TerritoryKind.COMMUNE).exclude(
        code__in=[c["insee"] for c in communes]
    ).update(metropole=None, parent=None)
    metropole.has_joined = True
    metropole.save()
    audit(None, "territory.loaded", metropole, metropole, communes=len(communes))
    return metropole


@transaction.atomic
def set_commune_joined(actor, commune: Territory, joined: bool) -> Territory:
    """A metropole administrator records that a commune joined (or left) the platform."""
    if not commune.is_commune or commune.metropole_id is None:
        raise BadRequest(
            _("Not a commune"), _("Only a commune of the metropole can join the platform.")
        )
    require_perm(actor, "core.manage_communes", commune.metropole)
    if commune.has_joined != joined:
        commune.has_joined = joined
        commune.joined_at = timezone.now() if joined else None
        commune.save(update_fields=["has_joined", "joined_at", "updated_at"])
        audit(actor, "commune.joined" if joined else "commune.left", commune.metropole, commune)
    return commune


BRANDING_FIELDS = ("brand_name", "primary_colour", "accent_colour", "tagline", "contact_email")


@transaction.atomic
def update_branding(actor, territory: Territory, *, logo=None, remove_logo=False, **values):
    """Change a territory's name as displayed, colours, welcome message, contact and logo."""
    require_perm(actor, "core.change_territory", territory)
    unknown = set(values) - set(BRANDING_FIELDS)
    if unknown:
        raise BadRequest(
            _("Unknown setting"),
            _("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    for field_name in ("primary_colour", "accent_colour"):
        if values.get(field_name):
            require_readable_on_white(values[field_name], field=field_name)
    changed = {k: v for k, v in values.items() if getattr(territory, k) != v}
    for name, value in changed.items():
        setattr(territory, name, value)
    if logo is not None:
        territory.logo = logo
        changed["logo"] = logo.name
    elif remove_logo and territory.logo:
        territory.logo.delete(save=False)
        territory.logo = ""
        changed["logo"] = None
    if changed:
        try:
            territory.full_clean(exclude=["slug", "code", "parent", "metropole"])
        except ValidationError as error:
            raise from_validation_error(error) from None
        territory.save()
        audit(actor, "territory.branding_changed", territory, territory, fields=sorted(changed))
    return territory


# --- roles -----------------------------------------------------------------------------

# Which roles make sense on which kind of territory.
ROLES_BY_KIND = {
    TerritoryKind.METROPOLE: {Role.CITIZEN, Role.AGENT, Role.ADMIN, Role.PARTNER, Role.ELECTED},
    TerritoryKind.EPT: {Role.AGENT, Role.ADMIN, Role.ELECTED},
    TerritoryKind.COMMUNE: {Role.CITIZEN, Role.AGENT, Role.ADMIN, Role.ELECTED},
}


@transaction.atomic
def grant_role(actor, user: User, territory: Territory, role: str, organisation=None):
    """Grant `role` on `territory` to `user`. Partner members belong to an organisation."""
    require_perm(actor, "core.manage_members", territory)
    if role not in Role.values:
        raise BadRequest(_("Unknown role"), _("“%(role)s” is not a role.") % {"role": role})
    if role not in ROLES_BY_KIND[territory.kind]:
        raise BadRequest(
            _("Role not available here"),
            _("The role “%(role)s” cannot be granted on %(territory)s.")
            % {"role": Role(role).label, "territory": territory.display_name},
            field="role",
        )
    if role == Role.PARTNER:
        if organisation is None:
            raise BadRequest(
                _("Organisation missing"),
                _("A partner member belongs to an organisation."),
                field="organisation",
            )
        if organisation.metropole_id != territory.root.pk:
            raise BadRequest(
                _("Wrong organisation"),
                _("This organisation is not a partner of this metropole."),
                field="organisation",
            )
    else:
        organisation = None
    membership, created = Membership.objects.get_or_create(
        user=user,
        territory=territory,
        role=role,
        defaults={"organisation": organisation, "granted_by": actor},
    )
    if not created:
        raise Conflict(
            _("Role already granted"),
            _("%(user)s already has this role here.") % {"user": user.email},
        )
    forget_roles(user)
    audit(
        actor,
        "role.granted",
        territory,
        membership,
        user=user.email,
        role=role,
        organisation=organisation.name if organisation else None,
    )
    return membership


@transaction.atomic
def revoke_role(actor, membership: Membership) -> None:
    require_perm(actor, "core.manage_members", membership.territory)
    if membership.role == Role.ADMIN and membership.user_id == actor.pk:
        others = Membership.objects.filter(territory=membership.territory, role=Role.ADMIN).exclude(
            user=actor
        )
        if not others.exists():
            raise Conflict(
                _("Last administrator"),
                _(
                    "You are the last administrator of this territory: grant the role to "
                    "someone else before giving it up."
                ),
            )
    audit(
        actor,
        "role.revoked",
        membership.territory,
        membership,
        user=membership.user.email,
        role=membership.role,
    )
    membership.delete()
    forget_roles(membership.user)


@transaction.atomic
def create_organisation(actor, metropole: Territory, *, name: str, kind: str, siren: str = ""):
    require_perm(actor, "core.manage_organisations", metropole)
    organisation = Organisation(metropole=metropole, name=name.strip(), kind=kind, siren=siren)
    try:
        organisation.full_clean()
    except ValidationError as error:
        raise from_validation_error(error) from None
    organisation.save()
    audit(actor, "organisation.created", metropole, organisation, name=organisation.name)
    return organisation


# --- accounts --------------------------------------------------------------------------

VERIFICATION_SALT = "metropole.core.email-verification"


@transaction.atomic
def register_user(
    *,
    email: str,
    password: str,
    first_name="",
    last_name="",
    home_commune=None,
    verify_url_base: str,
) -> User:
    """Create an unverified account and send the verification link by e-mail."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            _("Address already used"),
            _("An account already uses this e-mail address: log in or reset the password."),
            field="email",
        )
    user = User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        home_commune=home_commune,
    )
    send_verification_email(user, verify_url_base)
    return user


def verification_token(user: User) -> str:
    """A signed, timestamped token naming the account and the address it verifies.

    The address itself is not in the link (links end up in logs): only a digest of it,
    so a token stops working if the address changes.
    """
    return signing.TimestampSigner(salt=VERIFICATION_SALT).sign_object(
        {"id": user.pk, "email": _email_digest(user.email)}
    )


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:20]


def send_verification_email(user: User, verify_url_base: str) -> None:
    link = verify_url_base + reverse(
        "core:verify_email", kwargs={"token": verification_token(user)}
    )
    hours = max(1, settings.ACCOUNT_VERIFICATION_MAX_AGE // 3600)
    body = ngettext(
        "Hello,\n\nTo activate your account, open this link within %(hours)d hour:\n"
        "%(link)s\n\nIf you did not create an account, ignore this message.",
        "Hello,\n\nTo activate your account, open this link within %(hours)d hours:\n"
        "%(link)s\n\nIf you did not create an account, ignore this message.",
        hours,
    ) % {"hours": hours, "link": link}
    subject = _("Confirm your e-mail address")
    transaction.on_commit(
        lambda: tasks.send_email.enqueue(to=[user.email], subject=subject, body=body)
    )


@transaction.atomic
def verify_email(token: str) -> User:
    """Mark the address of the token's account as verified (idempotent)."""
    signer = signing.TimestampSigner(salt=VERIFICATION_SALT)
    try:
        value = signer.unsign_object(token, max_age=settings.ACCOUNT_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise BadRequest(
            _("Link expired"),
            _("This verification link has expired. Log in to receive a new one."),
        ) from None
    except (signing.BadSignature, ValueError):
        raise BadRequest(
            _("Invalid link"),
            _(
                "This verification link is not valid. Check that it was copied "
                "whole, or ask for a new one."
            ),
        ) from None
    user = User.objects.filter(pk=value.get("id"), is_active=True).first()
    if user is None or _email_digest(user.email) != value.get("email"):
        raise BadRequest(_("Invalid link"), _("This link belongs to no active account."))
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def export_personal_data(user: User) -> dict:
    """Everything the platform holds about a person (RGPD art. 15 and 20)."""
    data = {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "email_verified_at": (
                user.email_verified_at.isoformat() if user.email_verified_at else None
            ),
            "home_commune": user.home_commune.code if user.home_commune else None,
        },
        "roles": [
            {
                "territory": m.territory.code,
                "territory_name": m.territory.name,
                "role": m.role,
                "organisation": m.organisation.name if m.organisation else None,
                "granted_at": m.granted_at.isoformat(),
            }
            for m in user.memberships.select_related("territory", "organisation")
        ],
        "identity_providers": [
            {
                "provider": i.provider,
                "linked_at": i.created_at.isoformat(),
                "last_login_at": i.last_login_at.isoformat() if i.last_login_at else None,
            }
            for i in user.oidc_identities.all()
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "revoked": t.revoked_at is not None,
            }
            for t in user.api_tokens.all()
        ],
        "actions_in_audit_log": [
            {"at": e.at.isoformat(), "action": e.action}
            for e in AuditEvent.objects.filter(actor=user)[:1000]
        ],
    }
    for module in registry:
        if module.export_personal_data:
            data[module.label] = module.export_personal_data(user)
    return data


@transaction.atomic
def delete_account(user: User) -> None:
    """Erase a person: personal fields are wiped, content that must stay is anonymised.

    The row is kept (as "deleted account") so that contributions stay attributed to an
    anonymous author and counts stay right; modules anonymise their own content first.
    """
    for module in registry:
        if module.erase_personal_data:
            module.erase_personal_data(user)
    audit(user, "account.deleted", None, user)
    AuditEvent.objects.filter(actor=user).update(actor_label=f"deleted-account-{user.pk}")
    user.memberships.all().delete()
    user.api_tokens.all().delete()
    user.oidc_identities.all().delete()
    _remove_authenticators(user)
    user.email = f"deleted-{user.pk}@invalid"
    user.first_name = user.last_name = ""
    user.home_commune = None
    user.is_active = user.is_staff = user.is_superuser = False
    user.anonymised_at = timezone.now()
    user.set_unusable_password()
    user.save()


def _remove_authenticators(user: User) -> None:
    """Every second-factor device of the account, confirmed or being set up."""
    for device in devices_for_user(user, confirmed=None):
        device.delete()


# --- API tokens ------------------------------------------------------------------------


def create_api_token(user: User, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """A new personal access token; returns it with its secret, shown only once."""
    name = (name or "").strip()
    if not name:
        raise BadRequest(
            _("Name missing"), _("Give the token a name to recognise it."), field="name"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise BadRequest(
            _("Expiry in the past"), _("Choose an expiry date in the future."), field="expires_at"
        )
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[4 : 4 + ApiToken.PREFIX_LENGTH],
        key_hash=ApiToken.hash_key(key),
        expires_at=expires_at,
    )
    audit(user, "api_token.created", None, token, name=token.name)
    return token, key


def revoke_api_token(user: User, token: ApiToken) -> None:
    if token.user_id != user.pk:
        raise NotFound(_("Unknown token"), _("You have no token with this identifier."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(user, "api_token.revoked", None, token, name=token.name)


# --- OpenID Connect (FranceConnect, ProConnect) -----------------------------------------


def oidc_email_verified(provider: str, claims: dict) -> bool:
    """Whether the provider vouches for the e-mail address of `claims`.

    `email_verified` is trusted when present. When it is absent, the address counts as
    verified only for FranceConnect and ProConnect, which give no other kind (see
    oidc.PROVIDERS_WITH_VERIFIED_EMAILS and docs/oidc.md)."""
    value = claims.get("email_verified")
    if value is None:
        return provider in PROVIDERS_WITH_VERIFIED_EMAILS
    if isinstance(value, str):  # some providers send "true"
        return value.strip().lower() == "true"
    return value is True


def sign_in_with_oidc(provider: str, claims: dict) -> User:
    """See `_sign_in_with_oidc`. Two first log-ins of the same person at once (a double
    click, two tabs) both try to create the link; the unique constraint lets one win, and
    the other, retried, finds the link the first one made."""
    try:
        return _sign_in_with_oidc(provider, claims)
    except IntegrityError:
        return _sign_in_with_oidc(provider, claims)


@transaction.atomic
def _sign_in_with_oidc(provider: str, claims: dict) -> User:
    """The account of the person the provider vouches for, found or created and linked.

    `claims` are the validated claims of the ID token and userinfo (`sub`, `email`, ...).
    The account is the one linked to (provider, sub), else the one with the same e-mail
    address when the provider vouches for it, else a new one (no password: it logs in
    through the provider, or sets one with "forgotten password"). An unverified local
    account with that address is taken over: whoever created it never proved they own the
    address, so its password, API tokens and authenticator apps are removed."""
    subject = str(claims.get("sub") or "").strip()
    if not subject or len(subject) > 255:
        raise BadRequest(
            _("Incomplete answer"), _("The identity provider did not say who you are.")
        )
    email = User.objects.normalize_email(str(claims.get("email") or "").strip()).lower()
    verified = bool(email) and oidc_email_verified(provider, claims)
    now = timezone.now()
    details = {"provider": provider, "created": False, "linked": False}

    identity = (
        OidcIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, subject=subject)
        .first()
    )
    if identity is not None and identity.user.anonymised_at is not None:
        identity.delete()  # the account was deleted: its owner starts afresh
        identity = None
    if identity is not None:
        user = identity.user
    else:
        if not email:
            raise BadRequest(
                _("E-mail address missing"),
                _(
                    "The identity provider did not give your e-mail address. Allow it to "
                    "share your e-mail address, then try again."
                ),
            )
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=None,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or claims.get("usual_name") or "")[:150],
                email_verified_at=now if verified else None,
            )
            details["created"] = True
        elif not verified:
            raise Conflict(
                _("Address already used"),
                _(
                    "An account already uses the e-mail address %(email)s, and the identity "
                    "provider does not confirm that this address is yours. Log in with "
                    "your password instead."
                )
                % {"email": email},
            )
        elif user.email_verified_at is None:
            user.set_unusable_password()
            user.email_verified_at = now
            user.save(update_fields=["password", "email_verified_at"])
            user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
            _remove_authenticators(user)
            details["took_over_unverified_account"] = True
        identity = OidcIdentity.objects.create(user=user, provider=provider, subject=subject)
        details["linked"] = True
    if not user.is_active:
        raise PermissionDenied(
            _("Account disabled"), _("This account is disabled. Contact the platform team.")
        )
    if verified and user.email_verified_at is None and user.email == email:
        user.email_verified_at = now
        user.save(update_fields=["email_verified_at"])
    identity.last_login_at = now
    identity.save(update_fields=["last_login_at"])
    audit(user, "account.oidc_login", None, user, **details)
    signals.oidc_signed_in.send(sender=User, user=user, provider=provider, claims=claims)
    return user
