"""Log-in through an OpenID Connect provider: FranceConnect (citizens), ProConnect (agents).

`oidc_login` sends the person to the provider; `oidc_callback` receives them back, has
Authlib check state, PKCE and the ID token (signature, issuer, audience, expiry, nonce),
reads the userinfo and hands the claims to services.sign_in_with_oidc. Every failure is a
readable page (400 for what the person or the request did, 502 for what the provider did),
and nothing is written to the database before all checks have passed.
"""

import logging
import re
import secrets

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from joserfc.errors import JoseError

from .. import oidc, services
from ..exceptions import BadRequest, NotFound, PlatformError
from .accounts import _safe_next, complete_login
from .helpers import render_error

log = logging.getLogger(__name__)

NEXT_SESSION_KEY = "metropole_oidc_next"
# What can go wrong when talking to the provider or checking its answers.
PROVIDER_ERRORS = (
    requests.RequestException,
    AuthlibBaseError,
    JoseError,
    oidc.ProviderResponseError,
    ValueError,
    KeyError,
    RuntimeError,
)


class ProviderError(PlatformError):
    """The identity provider is unreachable or gave an answer we cannot use."""

    status = 502


def _unknown_provider(provider: str) -> NotFound:
    return NotFound(
        _("Unknown log-in service"),
        _("“%(provider)s” is not a log-in service of this platform.") % {"provider": provider},
    )


def _provider_failed(label: str) -> ProviderError:
    return ProviderError(
        _("Log-in service unavailable"),
        _(
            "%(provider)s did not answer as expected, so you are not logged in. Try again in "
            "a few minutes, or log in with your e-mail address and password."
        )
        % {"provider": label},
    )


@require_POST
def oidc_login(request, provider):
    """Send the person to the provider's log-in page (POST only: the button of log-in)."""
    client = oidc.client(provider)
    if client is None:
        return render_error(request, _unknown_provider(provider))
    conf = oidc.provider_config(provider)
    request.session[NEXT_SESSION_KEY] = _safe_next(request, "")
    redirect_uri = request.build_absolute_uri(
        reverse("core:oidc_callback", kwargs={"provider": provider})
    )
    # FranceConnect wants state and nonce of at least 32 characters; Authlib's are shorter.
    params = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32)}
    if conf.get("acr_values"):
        params["acr_values"] = conf["acr_values"]
    try:
        return client.authorize_redirect(request, redirect_uri, **params)
    except PROVIDER_ERRORS as error:
        log.warning("OpenID Connect log-in with %s could not start: %r", provider, error)
        return render_error(request, _provider_failed(conf["label"]))


@require_GET
def oidc_callback(request, provider):
    """The provider sends the person back here, with a code or an error."""
    client = oidc.client(provider)
    if client is None:
        return render_error(request, _unknown_provider(provider))
    label = oidc.provider_config(provider)["label"]
    state = request.GET.get("state") or ""
    error = request.GET.get("error")
    if error or not request.GET.get("code"):
        if state:
            client.framework.clear_state_data(request.session, state)
        request.session.pop(NEXT_SESSION_KEY, None)
        return render_error(request, _refused(label, error))

    try:
        claims = _verified_claims(client, request)
    except MismatchingStateError:
        request.session.pop(NEXT_SESSION_KEY, None)
        return render_error(
            request,
            BadRequest(
                _("Log-in expired"),
                _(
                    "This log-in link is not valid any more (it was already used, it is too "
                    "old, or it was opened in another browser). Start again from the log-in "
                    "page."
                ),
            ),
        )
    except PROVIDER_ERRORS as error:
        log.warning("OpenID Connect log-in with %s failed: %r", provider, error)
        request.session.pop(NEXT_SESSION_KEY, None)
        return render_error(request, _provider_failed(label))

    try:
        user = services.sign_in_with_oidc(provider, claims)
    except PlatformError as error:
        request.session.pop(NEXT_SESSION_KEY, None)
        return render_error(request, error)
    return complete_login(request, user, request.session.pop(NEXT_SESSION_KEY, ""))


def _refused(label: str, error: str | None) -> BadRequest:
    if error == "access_denied":
        return BadRequest(
            _("Log-in cancelled"),
            _(
                "You cancelled the log-in with %(provider)s, so you are not logged in. You can "
                "try again, or log in with your e-mail address and password."
            )
            % {"provider": label},
        )
    code = error if error and re.fullmatch(r"[a-z_]{1,64}", error) else "invalid_response"
    return BadRequest(
        _("Log-in failed"),
        _(
            "%(provider)s could not log you in (error “%(code)s”). Try again, or log in with "
            "your e-mail address and password."
        )
        % {"provider": label, "code": code},
    )


def _verified_claims(client: oidc.OidcClient, request) -> dict:
    """Exchange the code for tokens and return the claims of the checked ID token, completed
    by the userinfo endpoint (same subject required)."""
    token = client.authorize_access_token(request)
    id_token_claims = token.get("userinfo")
    if not id_token_claims or not id_token_claims.get("sub"):
        raise oidc.ProviderResponseError("no ID token in the token response")
    claims = dict(id_token_claims)
    if client.load_server_metadata().get("userinfo_endpoint"):
        userinfo = client.fetch_userinfo(token)
        if str(userinfo.get("sub")) != str(claims["sub"]):
            raise oidc.ProviderResponseError("userinfo is about another subject")
        claims.update(userinfo)
    return claims
