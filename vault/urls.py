from django.urls import path

from vault import views

app_name = "vault"
urlpatterns = [
    path("", views.resource_list, name="resource_list"),
    path("resources/new/", views.resource_create, name="resource_create"),
    path("resources/<int:pk>/", views.resource_detail, name="resource_detail"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("resources/<int:pk>/delete/", views.resource_delete, name="resource_delete"),
    path("resources/<int:pk>/share/", views.resource_share, name="resource_share"),
    path("resources/<int:pk>/accounts/new/", views.account_create, name="account_create"),
    path("accounts/<uuid:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<uuid:pk>/reveal/", views.account_reveal, name="account_reveal"),
    path("accounts/<uuid:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<uuid:pk>/password/", views.account_password, name="account_password"),
    path("accounts/<uuid:pk>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<uuid:pk>/share/", views.account_share, name="account_share"),
    path("shares/<str:kind>/<int:share_id>/revoke/", views.share_revoke, name="share_revoke"),
]
