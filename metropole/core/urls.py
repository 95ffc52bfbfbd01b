from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import account, accounts, administration, oidc, portal

app_name = "core"

password_reset = [
    path(
        "compte/mot-de-passe/oublie/",
        auth_views.PasswordResetView.as_view(
            template_name="core/accounts/password_reset.html",
            email_template_name="core/accounts/password_reset_email.txt",
            subject_template_name="core/accounts/password_reset_subject.txt",
            success_url=reverse_lazy("core:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "compte/mot-de-passe/envoye/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="core/accounts/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "compte/mot-de-passe/nouveau/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="core/accounts/password_reset_confirm.html",
            success_url=reverse_lazy("core:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "compte/mot-de-passe/change/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="core/accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", portal.home, name="home"),
    path("communes/<slug:slug>/", portal.territory, name="territory"),
    path("trouver-ma-commune/", portal.find_commune, name="find_commune"),
    path("branding/<slug:slug>.css", portal.branding_css, name="branding_css"),
    path("health/", portal.health, name="health"),
    # accounts
    path("compte/inscription/", accounts.signup, name="signup"),
    path("compte/verifier/<str:token>/", accounts.verify_email, name="verify_email"),
    path("compte/verifier-a-nouveau/", accounts.resend_verification, name="resend_verification"),
    path("compte/connexion/", accounts.login, name="login"),
    path("compte/connexion/code/", accounts.login_otp, name="login_otp"),
    path("compte/deconnexion/", accounts.logout, name="logout"),
    path("compte/oidc/<str:provider>/connexion/", oidc.oidc_login, name="oidc_login"),
    path("compte/oidc/<str:provider>/retour/", oidc.oidc_callback, name="oidc_callback"),
    *password_reset,
    # my account
    path("mon-compte/", account.overview, name="account"),
    path("mon-compte/mes-donnees.json", account.export_my_data, name="export_my_data"),
    path("mon-compte/supprimer/", account.delete_account, name="delete_account"),
    path("mon-compte/securite/", account.security, name="security"),
    path("mon-compte/securite/activer/", account.security_start, name="security_start"),
    path("mon-compte/securite/desactiver/", account.security_disable, name="security_disable"),
    path("mon-compte/jetons/", account.api_tokens, name="api_tokens"),
    path(
        "mon-compte/jetons/<int:token_id>/revoquer/",
        account.api_token_revoke,
        name="api_token_revoke",
    ),
    # administration
    path("administration/", administration.index, name="admin_index"),
    path("administration/<slug:slug>/", administration.overview, name="admin_overview"),
    path("administration/<slug:slug>/membres/", administration.members, name="admin_members"),
    path(
        "administration/<slug:slug>/membres/<int:membership_id>/retirer/",
        administration.revoke,
        name="admin_revoke",
    ),
    path("administration/<slug:slug>/identite/", administration.branding, name="admin_branding"),
    path("administration/<slug:slug>/communes/", administration.communes, name="admin_communes"),
    path(
        "administration/<slug:slug>/communes/<str:code>/adhesion/",
        administration.commune_membership,
        name="admin_commune_membership",
    ),
    path(
        "administration/<slug:slug>/organisations/",
        administration.organisations,
        name="admin_organisations",
    ),
    path("administration/<slug:slug>/journal/", administration.audit_log, name="admin_audit"),
]
