"""Signals the core sends so that modules can react without the core importing them."""

from django.dispatch import Signal

# Sent inside the log-in transaction after a person signed in through an OpenID Connect
# provider, with `user`, `provider` (its name in settings.OIDC_PROVIDERS) and `claims` (the
# checked claims of the ID token and userinfo). The core does not keep the claims; a module
# that needs one (participation: the address FranceConnect gives, for residence) records it.
# Receivers must not raise for claims they cannot use.
oidc_signed_in = Signal()
