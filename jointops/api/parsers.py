"""Request parsers: bad bodies answer 400 with the usual error shape, never 500."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for bodies nested too deeply for Python's parser (RecursionError)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from exc
