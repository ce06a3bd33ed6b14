from django.urls import path

from tessera.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("org/switch/", views.switch_organisation, name="switch_org"),
    path("org/members/", views.members, name="members"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("audit/<int:pk>/", views.audit_event, name="audit_event"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", views.revoke_api_token, name="revoke_token"),
]
