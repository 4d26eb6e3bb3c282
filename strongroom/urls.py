from django.urls import include, path

# No Django admin: it logs in without the one-time code and changes users unaudited.
urlpatterns = [
    path("", include("vault.urls")),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", include("vault.api_urls")),
    path("", include("ha.urls")),
    path("alerts/", include("alerts.urls")),
]


handler400 = "strongroom.errors.bad_request"
handler404 = "strongroom.errors.not_found"
handler500 = "strongroom.errors.server_error"
