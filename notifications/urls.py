"""Browser routes of the notifications app (namespace "notifications"), under /notifications/."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    # The inbox of the signed-in member of staff.
    path("", views.InboxView.as_view(), name="inbox"),
    path("read/", views.NotificationReadAllView.as_view(), name="notification_read_all"),
    path("<int:pk>/open/", views.NotificationOpenView.as_view(), name="notification_open"),
    path("<int:pk>/read/", views.NotificationReadView.as_view(), name="notification_read"),
    path("e-mail/", views.EmailPreferenceView.as_view(), name="email_preference"),
    # Pre-departure name lists, IOM → UNHCR (Letter).
    path("lists/", views.ListIndexView.as_view(), name="list_index"),
    path("lists/build/", views.ListBuildView.as_view(), name="list_build"),
    path("lists/<int:pk>/", views.PreDepartureListDetailView.as_view(), name="list_detail"),
    path("lists/<int:pk>/acknowledge/", views.ListAcknowledgeView.as_view(), name="list_acknowledge"),
    path("lists/<int:pk>/csv/", views.ListDownloadView.as_view(extension="csv"), name="list_csv"),
    path("lists/<int:pk>/pdf/", views.ListDownloadView.as_view(extension="pdf"), name="list_pdf"),
    path("lists/<int:pk>/entries/<int:entry_pk>/concern/", views.EntryConcernView.as_view(), name="entry_concern"),
    path(
        "lists/<int:pk>/entries/<int:entry_pk>/close-record/",
        views.EntryCloseRecordView.as_view(),
        name="entry_close_record",
    ),
    # Administrators: the outbox and the organisation's configuration.
    path("deliveries/", views.DeliveryListView.as_view(), name="delivery_list"),
    path("deliveries/<int:pk>/retry/", views.DeliveryRetryView.as_view(), name="delivery_retry"),
    path("configuration/", views.ConfigView.as_view(), name="config"),
    path("configuration/addresses/", views.ContactAddView.as_view(), name="contact_add"),
    path("configuration/addresses/<int:pk>/remove/", views.ContactRemoveView.as_view(), name="contact_remove"),
    path("configuration/lead-times/", views.LeadTimeSetView.as_view(), name="lead_time_set"),
    path("configuration/webhooks/", views.WebhookCreateView.as_view(), name="webhook_create"),
    path(
        "configuration/webhooks/<int:pk>/activate/",
        views.WebhookSetActiveView.as_view(is_active=True),
        name="webhook_activate",
    ),
    path(
        "configuration/webhooks/<int:pk>/deactivate/",
        views.WebhookSetActiveView.as_view(is_active=False),
        name="webhook_deactivate",
    ),
]
