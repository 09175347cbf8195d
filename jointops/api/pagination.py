"""Cursor pagination for the lists partner systems page through (no COUNT, no deep OFFSET)."""

from rest_framework.pagination import CursorPagination


class DefaultCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"
