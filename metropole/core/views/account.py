"""My account: profile, roles, my data (RGPD export), deletion, security, API tokens."""

import datetime
import json

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from .. import services
from ..exceptions import PlatformError
from ..forms import ApiTokenForm, DeleteAccountForm, OtpForm, ProfileForm
from ..models import ApiToken
from ..queries import territories_administered_by


@login_required
def overview(request):
    form = ProfileForm(request.POST or None, instance=request.user, metropole=request.metropole)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile is saved."))
        return redirect("core:account")
    return render(
        request,
        "core/account/overview.html",
        {
            "form": form,
            "memberships": request.user.memberships.select_related("territory", "organisation"),
            "administered": territories_administered_by(request.user).order_by("kind", "name")[:50],
        },
    )


@login_required
def export_my_data(request):
    data = services.export_personal_data(request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-data-metropole.json"'
    return response


@login_required
def delete_account(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.delete_account(request.user)
        auth_logout(request)
        messages.success(request, _("Your account is deleted. Thank you for your participation."))
        return redirect("core:home")
    return render(request, "core/account/delete.html", {"form": form})


@login_required
def security(request):
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    form = OtpForm(request.POST or None)
    if request.method == "POST" and pending and form.is_valid():
        if pending.verify_token(form.cleaned_data["token"].replace(" ", "")):
            pending.confirmed = True
            pending.save()
            services.audit(user, "account.two_factor_enabled", None, user)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("core:security")
        form.add_error("token", _("This code is not valid. Check the time on your phone."))
    context = {"confirmed": confirmed, "pending": pending, "form": form}
    if pending:
        import base64

        import segno

        context["qr_svg"] = segno.make(pending.config_url, error="m").svg_inline(
            scale=4, title=_("QR code to scan with your authenticator app")
        )
        context["secret"] = base64.b32encode(pending.bin_key).decode()
    return render(request, "core/account/security.html", context)


@login_required
@require_POST
def security_start(request):
    TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    return redirect("core:security")


@login_required
@require_POST
def security_disable(request):
    deleted, _count = TOTPDevice.objects.filter(user=request.user).delete()
    if deleted:
        services.audit(request.user, "account.two_factor_disabled", None, request.user)
        messages.info(request, _("Two-factor authentication is off."))
    return redirect("core:security")


@login_required
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_at"]
        expires_at = (
            timezone.make_aware(datetime.datetime.combine(expires, datetime.time.max))
            if expires
            else None
        )
        try:
            _token, new_key = services.create_api_token(
                request.user, form.cleaned_data["name"], expires_at
            )
        except PlatformError as error:
            form.add_error(error.field, error.detail)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "core/account/tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": request.user.api_tokens.all(),
        },
    )


@login_required
@require_POST
def api_token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.revoke_api_token(request.user, token)
    messages.info(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("core:api_tokens")
