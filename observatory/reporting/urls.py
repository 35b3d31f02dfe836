from django.urls import path

from observatory.reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.submission_list, name="list"),
    path("open/", views.submission_open, name="open"),
    path("approve/", views.bulk_approve, name="bulk_approve"),
    path("<int:pk>/", views.submission_detail, name="detail"),
    path("<int:pk>/validation/", views.validation_page, name="validation"),
    path("<int:pk>/transition/<slug:name>/", views.submission_transition, name="transition"),
    path("<int:pk>/queries/", views.query_raise, name="query_raise"),
    path("queries/<int:pk>/", views.query_reply, name="query_reply"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path("<int:pk>/workbook.xlsx", views.workbook_download, name="workbook"),
    path("<int:pk>/upload/", views.workbook_upload, name="upload"),
]
