from django.urls import include, path

from tessera.api.urls import api
from tessera.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("cases/", include("tessera.cases.urls")),
    path("exchange/", include("tessera.exchange.urls")),
    path("releases/", include("tessera.releases.urls")),
    path("helpline/", include("tessera.helpline.urls")),
    path("report/", include("tessera.helpline.public_urls")),
    path("", include("tessera.web.urls")),
]
