from django.urls import path

from vault import api

urlpatterns = [
    path("resources/", api.resource_list, name="api_resource_list"),
    path("accounts/<uuid:pk>/", api.account_detail, name="api_account_detail"),
    path("accounts/<uuid:pk>/password/", api.account_password, name="api_account_password"),
]
