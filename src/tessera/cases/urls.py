from django.urls import path

from tessera.cases import views, views_extensions

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("new/", views.case_new, name="case_new"),
    path("<uuid:case_id>/", views.case_detail, name="case_detail"),
    path("<uuid:case_id>/break-glass/", views.case_break_glass, name="case_break_glass"),
    path("people/duplicates/", views.person_duplicates, name="person_duplicates"),
    path("people/<uuid:person_id>/", views.person_detail, name="person_detail"),
    path("extension-fields/", views_extensions.extension_fields, name="extension_fields"),
    path(
        "extension-fields/<uuid:field_id>/",
        views_extensions.extension_field_edit,
        name="extension_field_edit",
    ),
]
