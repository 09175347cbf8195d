from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersOfUnderstandingConfig(AppConfig):
    name = "letters_of_understanding"
    verbose_name = _("Letters of Understanding")
