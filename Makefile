# The index of what a developer runs.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test ldap lint typecheck format bench worker beat migrate seed shell clean

# LDAP sign-in (requirements-ldap.txt) compiles python-ldap against OpenLDAP's headers: it is
# installed where they are (Debian: libldap2-dev libsasl2-dev), and left out, saying so, elsewhere.
LDAP_HEADERS := $(wildcard /usr/include/ldap.h /usr/include/sasl/sasl.h)

$(STAMP): requirements.txt requirements-ldap.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	@if [ "$(words $(LDAP_HEADERS))" = 2 ]; then \
		$(PIP) install --quiet --disable-pip-version-check -r requirements-ldap.txt; \
	else \
		echo "LDAP sign-in not installed: apt-get install libldap2-dev libsasl2-dev, then make ldap"; \
	fi
	touch $(STAMP)

## ldap: install LDAP sign-in (django-auth-ldap, python-ldap; needs libldap2-dev libsasl2-dev)
ldap: $(STAMP)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-ldap.txt

## run: install, migrate, load demo data, and serve web + Celery worker + beat (make run PORT=8101)
PORT ?= 8000

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py run_all --addr 127.0.0.1:$(PORT)

## test: install and run the whole pytest suite (two workers; PYTEST_ARGS= for one)
PYTEST_ARGS ?= -n 2

test: $(STAMP)
	DJANGO_SETTINGS_MODULE=tests.settings $(VENV)/bin/pytest $(PYTEST_ARGS)

## lint: ruff (lint and format) and the layering contracts (import-linter, pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## typecheck: mypy with django-stubs over the apps (strict on the pure modules, services and selectors; see pyproject.toml)
typecheck: $(STAMP)
	DEBUG=$${DEBUG:-1} $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: run the benchmarks in bench/ and print ratios against their floors
bench: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) -m bench $(BENCH_ARGS)

worker: $(STAMP)
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A morgue worker --loglevel=INFO

beat: $(STAMP)
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A morgue beat --loglevel=INFO

migrate: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

seed: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo

clean:
	rm -rf $(VENV) var staticfiles morgue.sqlite3*
