"""``/api/``: version 1 of the program's API, its OpenAPI schema and the docs page.

Versioning is by URL path (``/api/v1/`` → ``request.version == "v1"``); a later version is one
more value in the pattern and in ``ALLOWED_VERSIONS``. The docs page loads Swagger UI from the sidecar package
(static files of this site) and its start script from its own URL: nothing from outside.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

v1 = (
    [
        path("activations/", views.ActivationView.as_view(), name="activations"),
        path("license/", views.LicenseView.as_view(), name="license"),
        path("license/codes/", views.AddCodeView.as_view(), name="license_codes"),
        path(
            "licenses/<str:serial>/", views.LicenseBySerialView.as_view(), name="license_by_serial"
        ),
    ],
    "v1",
)

urlpatterns = [
    re_path(r"^(?P<version>v1)/", include(v1, namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("", views.NotFoundView.as_view(), name="api_root"),
    path("<path:rest>", views.NotFoundView.as_view(), name="api_not_found"),
]
