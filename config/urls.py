from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.health import healthz
from config.i18n import switch_language
from licenses import views as license_views
from licenses.forms import EmailLoginForm, ThrottledAdminLoginForm
from orders.payments.views import stripe_webhook

admin.site.login_form = ThrottledAdminLoginForm
admin.site.site_header = "まもりストア 管理"
admin.site.site_title = "まもりストア"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", switch_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("api/", include("licenses.api.urls")),
]

urlpatterns += i18n_patterns(
    path("", license_views.home, name="home"),
    path("help/", license_views.help_page, name="help"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailLoginForm),
        name="login",
    ),
    path("accounts/signup/", license_views.signup, name="signup"),
    path("accounts/signup/done/", license_views.signup_done, name="signup_done"),
    path(
        "accounts/signup/confirm/<uidb64>/<token>/",
        license_views.signup_confirm,
        name="signup_confirm",
    ),
    path(
        "accounts/password_reset/",
        license_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        license_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", license_views.account, name="account"),
    path("", include("orders.renewals.urls")),
    path("licenses/", include("licenses.urls")),
    path("reminders/", include("licenses.reminders.urls")),
    path("legal/", include("orders.urls_legal")),
    path("orders/", include("orders.receipts.urls")),
    path("", include("orders.urls")),
    prefix_default_language=False,
)
