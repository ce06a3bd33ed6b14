from django.urls import path

from tessera.releases import views

app_name = "releases"

urlpatterns = [
    path("", views.release_list, name="release_list"),
    path("<uuid:release_id>/decide/", views.release_decide, name="release_decide"),
    path("<uuid:release_id>/download/", views.release_download, name="release_download"),
]
