"""The application's URLs plus the raw-SQL baseline of the list API (bench.rawviews), for bench.settings."""

from django.urls import path

from bench.rawviews import RawReturnCaseListView
from jointops.urls import urlpatterns as application_urls

RAW_LIST_PATH = "/bench/raw/return-cases/"

urlpatterns = [
    path(RAW_LIST_PATH.strip("/") + "/", RawReturnCaseListView.as_view(), name="bench_raw_return_cases"),
    *application_urls,
]
