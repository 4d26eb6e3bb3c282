from django.urls import include, path

# No Django admin: it logs in without the one-time code and changes users unaudited.
# The API first: every token request is resolved against the patterns before its own,
# and its hot path is the retrieval (issue 12). No web page lives under api/.
urlpatterns = [
    path("api/v1/", include("vault.api_urls")),
    path("", include("vault.urls")),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("", include("ha.urls")),
    path("alerts/", include("alerts.urls")),
]


handler400 = "strongroom.errors.bad_request"
handler404 = "strongroom.errors.not_found"
handler500 = "strongroom.errors.server_error"
