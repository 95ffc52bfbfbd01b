"""Authentication of API clients: personal access tokens or the browser session."""

from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from .models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer mtp_…` with a personal access token."""

    def authenticate(self, request, key):
        if not key.startswith("mtp_"):
            return None
        token = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(key_hash=ApiToken.hash_key(key), user__is_active=True)
            .first()
        )
        if token is None:
            return None
        # Written at most once a minute so that busy clients do not write on every call.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.user = token.user
        return token.user


class SessionAuth(APIKeyCookie):
    """The portal's session cookie, with CSRF protection on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = request.user
        return user if user.is_authenticated else None


#: Endpoints that need a person: a token or a logged-in browser.
person_auth = [TokenAuth(), SessionAuth(csrf=True)]
