from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JointopsConfig(AppConfig):
    name = "jointops"
    verbose_name = _("Joint operations platform")
