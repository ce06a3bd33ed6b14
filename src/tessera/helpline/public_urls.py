from django.urls import path

from tessera.helpline.views import public

app_name = "report"

urlpatterns = [
    path("", public.report, name="default"),
    path("<slug:org_slug>/", public.report, name="org"),
]
