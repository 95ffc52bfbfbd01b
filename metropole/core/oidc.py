"""OpenID Connect clients (FranceConnect for citizens, ProConnect for agents) with Authlib.

Each provider enabled in settings.OIDC_PROVIDERS (discovery URL and client id set) is
registered with Authlib's Django registry: endpoints and keys come from the discovery
document, PKCE (S256) is on, and Authlib keeps state, nonce and code verifier in the
session and checks them on the way back. See docs/adr/0003-oidc-with-authlib.md.
"""

import threading
import time

from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

# Providers that give only e-mail addresses they have verified, without saying so in an
# `email_verified` claim: FranceConnect (address checked by the identity provider the
# citizen chose) and ProConnect (professional address of an agent). Any other provider
# must send `email_verified: true` for its addresses to be trusted.
PROVIDERS_WITH_VERIFIED_EMAILS = frozenset({"franceconnect", "proconnect"})
# Seconds before a call to a provider is given up (it is made while a person waits).
HTTP_TIMEOUT = 10
# The discovery document and the signing keys are fetched again after this many seconds
# (keys are also fetched again at once when a token names an unknown key).
METADATA_MAX_AGE = 24 * 3600


class ProviderResponseError(Exception):
    """The provider answered something that cannot be trusted or understood."""


class OidcClient(DjangoOAuth2App):
    """Authlib's Django client, plus: discovery document refreshed daily, client
    authentication chosen from what the provider supports, userinfo as JSON or as a signed
    JWT (ProConnect and FranceConnect v2 sign it)."""

    def load_server_metadata(self):
        loaded_at = self.server_metadata.get("_loaded_at")
        if loaded_at and time.time() - loaded_at > METADATA_MAX_AGE:
            self.server_metadata.pop("_loaded_at", None)
            self.server_metadata.pop("jwks", None)
        metadata = super().load_server_metadata()
        if "token_endpoint_auth_method" not in self.client_kwargs:
            supported = metadata.get("token_endpoint_auth_methods_supported") or [
                "client_secret_basic"  # the default of OpenID Connect Discovery
            ]
            self.client_kwargs["token_endpoint_auth_method"] = (
                "client_secret_post"
                if "client_secret_basic" not in supported and "client_secret_post" in supported
                else "client_secret_basic"
            )
        return metadata

    def fetch_userinfo(self, token: dict) -> dict:
        """The claims of the userinfo endpoint, checked when the provider signs them."""
        metadata = self.load_server_metadata()
        response = self.get(metadata["userinfo_endpoint"], token=token)
        response.raise_for_status()
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/jwt":
            claims = response.json()
            if not isinstance(claims, dict):
                raise ProviderResponseError("userinfo is not a JSON object")
            return claims
        algorithms = metadata.get("userinfo_signing_alg_values_supported") or metadata.get(
            "id_token_signing_alg_values_supported"
        )
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        text = response.text.strip()
        try:
            keys = KeySet.import_key_set(self.fetch_jwk_set())
            decoded = jwt.decode(text, keys, registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys
            keys = KeySet.import_key_set(self.fetch_jwk_set(force=True))
            decoded = jwt.decode(text, keys, registry=registry)
        claims = dict(decoded.claims)
        if "iss" in claims and claims["iss"] != metadata.get("issuer"):
            raise ProviderResponseError("userinfo issued by another issuer")
        if "aud" in claims:
            audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
            if self.client_id not in audience:
                raise ProviderResponseError("userinfo meant for another client")
        return claims


_lock = threading.Lock()
_oauth: OAuth | None = None


def is_enabled(conf: dict) -> bool:
    return bool(conf.get("discovery_url") and conf.get("client_id"))


def enabled_providers() -> list[dict]:
    """The providers this install offers, as {"name", "label"}, in settings order."""
    return [
        {"name": name, "label": conf["label"]}
        for name, conf in settings.OIDC_PROVIDERS.items()
        if is_enabled(conf)
    ]


def provider_config(name: str) -> dict | None:
    """The settings of an enabled provider, None for an unknown or disabled one."""
    conf = settings.OIDC_PROVIDERS.get(name)
    return conf if conf is not None and is_enabled(conf) else None


def _registry() -> OAuth:
    global _oauth
    with _lock:
        if _oauth is None:
            oauth = OAuth()
            for name, conf in settings.OIDC_PROVIDERS.items():
                if not is_enabled(conf):
                    continue
                oauth.register(
                    name,
                    client_cls=OidcClient,
                    client_id=conf["client_id"],
                    client_secret=conf.get("client_secret") or None,
                    server_metadata_url=conf["discovery_url"],
                    client_kwargs={
                        "scope": conf.get("scope") or "openid email",
                        "code_challenge_method": "S256",
                        "default_timeout": HTTP_TIMEOUT,
                    },
                )
            _oauth = oauth
        return _oauth


def client(name: str) -> OidcClient | None:
    """The Authlib client of an enabled provider, None for an unknown or disabled one.
    No network access: the discovery document is fetched on first use."""
    if provider_config(name) is None:
        return None
    return _registry().create_client(name)


def reset() -> None:
    """Forget the registered clients (and their cached discovery documents and keys)."""
    global _oauth
    with _lock:
        _oauth = None


@receiver(setting_changed)
def _reset_on_settings_change(setting, **kwargs):
    if setting == "OIDC_PROVIDERS":
        reset()
