from django.urls import path

from observatory.seizures import views

app_name = "seizures"
urlpatterns = [
    path("", views.case_list, name="cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("map/", views.case_map, name="map"),
    path("routes/", views.route_view, name="routes"),
    path("upload/", views.upload, name="upload"),
    path("upload/check/<str:token>/", views.upload_check, name="upload_check"),
    path("batches/", views.batch_list, name="batches"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch"),
]
