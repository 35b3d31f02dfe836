from django.urls import path

from observatory.earlywarning import views

app_name = "earlywarning"
urlpatterns = [
    path("", views.registry, name="registry"),
    path("report/", views.report, name="report"),
    path("substances/<int:substance_id>/", views.substance_detail, name="substance"),
    path("substances/<int:substance_id>/retract/", views.substance_retract, name="substance_retract"),
    path("identifications/", views.identification_list, name="identifications"),
    path("identifications/<int:identification_id>/", views.identification_detail, name="identification"),
    path("emergence/", views.emergence, name="emergence"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/new/", views.alert_new, name="alert_new"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("public/alerts/", views.public_alert_list, name="public_alerts"),
    path("public/alerts/<int:alert_id>/", views.public_alert_detail, name="public_alert"),
]
