from django.urls import path

from ha import views

app_name = "ha"
urlpatterns = [
    path("ha/", views.ha_page, name="page"),
    path("ha/status", views.ha_status, name="status"),
    path("health", views.health, name="health"),
    path("health/live", views.health_live, name="health_live"),
    path("health/primary", views.health_primary, name="health_primary"),
    path("health/replica", views.health_replica, name="health_replica"),
    path("metrics", views.metrics, name="metrics"),
]
