from django.urls import path

from observatory.precursors import views

app_name = "precursors"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("notifications/new/", views.notification_new, name="notification_new"),
    path("notifications/<int:notification_id>/", views.notification_detail, name="notification"),
    path("notifications/<int:notification_id>/amend/", views.notification_amend, name="notification_amend"),
    path(
        "notifications/<int:notification_id>/<str:action>/",
        views.notification_action,
        name="notification_action",
    ),
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:incident_id>/", views.incident_detail, name="incident"),
    path("alerts/", views.alert_list, name="alerts"),
    path("patterns/", views.patterns, name="patterns"),
    path("registry/", views.registry, name="registry"),
    path("special-alerts/new/", views.special_alert_new, name="special_alert_new"),
]
