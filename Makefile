# jointops — the two commands of the Quick start are `make run` and `make test`.
# Needs only Python 3.11 and make: everything else is installed into .venv/.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test install install-dev translations lint format messages bench clean

$(VENV)/.run-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

translations: install
	$(PY) manage.py compile_translations

## make run: install, migrate, load demo data, then web server + Celery worker + beat on http://127.0.0.1:$(PORT)
run: translations
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runstack --port $(PORT)

## make test: lint, checks, schema validation, the whole test suite
test: install-dev translations
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file $(VENV)/schema.yml
	DJANGO_DEBUG=0 DJANGO_HTTPS=1 DJANGO_ALLOWED_HOSTS=jointops.example.org \
	  DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	  $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## make messages: re-extract translatable strings (needs GNU gettext; developers only)
messages: install
	$(PY) manage.py makemessages -l fr -l ar --ignore=.venv --ignore=var --ignore=static/vendor --no-obsolete
	$(PY) manage.py compile_translations

## make bench: issue 7's benchmark — each app path vs the database's own limit, on PostgreSQL, in a database of its
## own (not part of make test). BENCH_ARGS=--quick runs at 1/10 scale, BENCH_ARGS="--only list,detail" a subset;
## the load test needs wrk. See bench/README.md.
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/broker var/mail var/test_db.sqlite3*
