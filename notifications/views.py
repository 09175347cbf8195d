"""Pages of the notifications app."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import DetailView

from notifications.models import PreDepartureList


class PreDepartureListDetailView(LoginRequiredMixin, DetailView):
    template_name = "notifications/list_detail.html"

    def get_queryset(self):
        return PreDepartureList.objects.visible_to(self.request.user)
