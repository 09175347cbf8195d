"""Cursor pagination for the lists partner systems page through (no COUNT, no deep OFFSET).

`?page_size=N` (1 to 200) sets the page length; `?cursor=` comes from the `next`/`previous` links. A malformed
cursor or page size answers 400 naming the parameter (DRF's own answer for a bad cursor is a 404).
"""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

_PAGE_SIZE_RE = re.compile(r"[0-9]{1,6}")
_INTEGER_POSITION_RE = re.compile(r"-?[0-9]{1,19}")
_INTEGER_ORDERINGS = {"pk", "-pk", "id", "-id"}


class DefaultCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"
    invalid_cursor_message = _("Invalid cursor: use the next and previous links as given.")

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        if not _PAGE_SIZE_RE.fullmatch(raw) or int(raw) < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return min(int(raw), self.max_page_size)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from exc
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        if (
            cursor is not None
            and cursor.position is not None
            and ordering in _INTEGER_ORDERINGS
            and not _INTEGER_POSITION_RE.fullmatch(cursor.position)
        ):
            # A forged position would otherwise reach the database as a non-number (a 500).
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor
