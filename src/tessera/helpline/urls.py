from django.urls import path

from tessera.helpline.views import advisor, dashboard, knowledge

app_name = "helpline"

urlpatterns = [
    path("", advisor.triage, name="triage"),
    path("contacts/new/", advisor.contact_new, name="contact_new"),
    path("contacts/<uuid:contact_id>/", advisor.contact_detail, name="contact_detail"),
    path("contacts/<uuid:contact_id>/take/", advisor.contact_take, name="contact_take"),
    path("contacts/<uuid:contact_id>/case/", advisor.contact_link_case, name="contact_link_case"),
    path("contacts/<uuid:contact_id>/people/", advisor.contact_people, name="contact_people"),
    path("contacts/<uuid:contact_id>/tasks/", advisor.task_add, name="task_add"),
    path("tasks/", advisor.tasks, name="tasks"),
    path("tasks/<uuid:task_id>/complete/", advisor.task_complete, name="task_complete"),
    path("notifications/", advisor.notifications, name="notifications"),
    path("alerts/badge/", advisor.alerts_badge, name="alerts_badge"),
    path("knowledge/", knowledge.knowledge, name="knowledge"),
    path("knowledge/new/", knowledge.article_edit, name="article_new"),
    path("knowledge/<int:article_id>/", knowledge.article, name="article"),
    path("knowledge/<int:article_id>/edit/", knowledge.article_edit, name="article_edit"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard.csv", dashboard.dashboard_csv, name="dashboard_csv"),
]
