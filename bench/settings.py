"""Settings of the benchmark (`DJANGO_SETTINGS_MODULE=bench.settings`): the application's own, with the raw-SQL list
view added to the URLs (bench.urls) and API throttling off, so that the load test measures the server and not the
rate limit (jointops.api.throttling allows everything when its rate is None).

jointops/settings.py is loaded from its file: importing it as `jointops.settings` would first run
jointops/__init__.py, whose Celery app reads the settings — these, still half-loaded.
"""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench._application_settings", Path(__file__).resolve().parent.parent / "jointops" / "settings.py"
)
_application = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_application)
globals().update({name: value for name, value in vars(_application).items() if name.isupper()})

ROOT_URLCONF = "bench.urls"
REST_FRAMEWORK = {**_application.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"principal": None}}
