from django.urls import path

from observatory.analysis import views

app_name = "analysis"
urlpatterns = [
    path("", views.index, name="index"),
    path("trends/", views.trends, name="trends"),
    path("outliers/", views.outliers, name="outliers"),
    path("questionnaire-outliers/", views.questionnaire_outliers, name="questionnaire_outliers"),
    path("estimates/", views.estimates, name="estimates"),
    path("estimates/<int:run_id>/", views.estimate_run, name="estimate_run"),
    path("hidden-population/", views.hidden_population, name="hidden_population"),
    path("hidden-population/save/", views.save_estimate, name="save_estimate"),
]
