"""Sign-up, e-mail verification, log-in (with rate limit and optional second factor)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login

from .. import oidc, services
from ..exceptions import PlatformError
from ..forms import LoginForm, OtpForm, SignupForm
from ..models import User
from ..ratelimit import RateLimit, client_ip
from .helpers import render_error

PENDING_OTP_SESSION_KEY = "metropole_pending_otp_user"
LOGIN_NEXT_SESSION_KEY = "metropole_login_next"
# Every way in (password, OpenID Connect) logs the person in with the model backend.
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"


def login_rate_limit() -> RateLimit:
    return RateLimit("login", settings.LOGIN_RATE_LIMIT, settings.LOGIN_RATE_WINDOW)


def complete_login(request, user, next_url: str = ""):
    """The last step of every way in: log the person in, or ask for the code of their
    authenticator app first when they have one."""
    if any(True for _device in devices_for_user(user, confirmed=True)):
        request.session[PENDING_OTP_SESSION_KEY] = user.pk
        request.session[LOGIN_NEXT_SESSION_KEY] = next_url
        return redirect("core:login_otp")
    auth_login(request, user, backend=AUTH_BACKEND)
    return redirect(next_url or "core:account")


AFTER_SIGNUP_SESSION_KEY = "metropole_after_signup"


def _safe_next(request, default="core:account"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def signup(request):
    if request.user.is_authenticated:
        return redirect("core:account")
    form = SignupForm(request.POST or None, metropole=request.metropole)
    # Where the person was going (e.g. the report form): kept through the log-in that follows,
    # and through the e-mail link when it is opened in this browser.
    next_url = _safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_user(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                home_commune=form.cleaned_data["home_commune"],
                verify_url_base=request.build_absolute_uri("/")[:-1],
            )
        except PlatformError as error:
            form.add_error(error.field, error.detail)
        else:
            if next_url:
                request.session[AFTER_SIGNUP_SESSION_KEY] = next_url
            return render(
                request, "core/accounts/signup_done.html", {"email": user.email, "next": next_url}
            )
    return render(request, "core/accounts/signup.html", {"form": form, "next": next_url})


def verify_email(request, token):
    try:
        user = services.verify_email(token)
    except PlatformError as error:
        return render_error(request, error)
    messages.success(
        request, _("Your e-mail address %(email)s is confirmed. Welcome!") % {"email": user.email}
    )
    next_url = request.session.pop(AFTER_SIGNUP_SESSION_KEY, "")
    if request.user.is_authenticated:
        return redirect(next_url or "core:account")
    login_url = reverse("core:login")
    return redirect(f"{login_url}?{urlencode({'next': next_url})}" if next_url else login_url)


@require_POST
def resend_verification(request):
    if request.user.is_authenticated and not request.user.email_is_verified:
        services.send_verification_email(request.user, request.build_absolute_uri("/")[:-1])
        messages.info(
            request,
            _("A new confirmation link was sent to %(email)s.") % {"email": request.user.email},
        )
    return redirect("core:account")


def login(request):
    limiter = login_rate_limit()
    identities = [f"ip:{client_ip(request)}"]
    form = LoginForm(request, data=request.POST or None)
    context = {
        "form": form,
        "next": _safe_next(request, ""),
        "oidc_providers": oidc.enabled_providers(),
    }
    if request.method == "POST":
        email = (request.POST.get("username") or "").strip().lower()
        identities.append(f"email:{email}")
        if limiter.is_exceeded(*identities):
            context["locked_minutes"] = max(1, limiter.retry_after() // 60)
            response = render(request, "core/accounts/login.html", context, status=429)
            response["Retry-After"] = str(limiter.retry_after())
            return response
        if form.is_valid():
            limiter.reset(f"email:{email}")
            return complete_login(request, form.get_user(), context["next"])
        limiter.hit(*identities)
    return render(request, "core/accounts/login.html", context)


def login_otp(request):
    """Second step of log-in for accounts with an authenticator app."""
    user_id = request.session.get(PENDING_OTP_SESSION_KEY)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("core:login")
    limiter = login_rate_limit()
    identity = f"otp:{user.pk}"
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if limiter.is_exceeded(identity):
            form.add_error("token", _("Too many wrong codes. Wait a few minutes."))
        else:
            token = form.cleaned_data["token"].replace(" ", "")
            device = next(
                (d for d in devices_for_user(user, confirmed=True) if d.verify_token(token)), None
            )
            if device is not None:
                next_url = request.session.pop(LOGIN_NEXT_SESSION_KEY, "") or "core:account"
                del request.session[PENDING_OTP_SESSION_KEY]
                auth_login(request, user, backend=AUTH_BACKEND)
                otp_login(request, device)
                return redirect(next_url)
            limiter.hit(identity)
            form.add_error("token", _("This code is not valid. Check your app and try again."))
    return render(request, "core/accounts/login_otp.html", {"form": form})


@require_POST
def logout(request):
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("core:home")
