"""Portal pages under /publication/ (the site home is ``views.portal_home``) and the office's release pages."""

from django.urls import path, re_path

from observatory.publication import views

app_name = "publication"
urlpatterns = [
    path("", views.portal_home, name="home"),
    path("drugs/<slug:code>/", views.drug_page, name="drug"),
    path("countries/<str:iso3>/", views.country_page, name="country"),
    path("explore/", views.explorer, name="explorer"),
    re_path(r"^explore/download\.(?P<extension>csv|xlsx)$", views.explorer_download, name="download"),
    path("releases/", views.release_list, name="releases"),
    path("releases/<str:label>/", views.release_detail, name="release"),
    path("manage/", views.manage, name="manage"),
    path("manage/create/", views.manage_create, name="manage_create"),
    path("manage/<str:label>/<slug:action>/", views.manage_action, name="manage_action"),
]
