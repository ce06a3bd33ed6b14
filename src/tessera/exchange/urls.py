from django.urls import path

from tessera.exchange import views

app_name = "exchange"

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<uuid:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:job_id>/commit/", views.import_commit, name="import_commit"),
    path("imports/<uuid:job_id>/report.csv", views.import_report, name="import_report"),
    path("export/", views.export, name="export"),
]
