# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
PYTEST_WORKERS ?= auto

.PHONY: demo test lint typecheck check-migrations ci bench clean messages

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,privacy]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tessera demo

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src/tessera

check-migrations: $(STAMP)
	DJANGO_SETTINGS_MODULE=tessera.settings.test $(BIN)/django-admin makemigrations --check --dry-run

ci: lint typecheck check-migrations test

# Refresh the gettext catalogues from the sources and compile them (needs GNU gettext). Commit both
# the .po and the .mo files: tests and deployments never need gettext.
LANGS := fr es ar
messages: $(STAMP)
	cd src/tessera && DJANGO_SETTINGS_MODULE=tessera.settings.test ../../$(BIN)/python -m django makemessages \
		$(addprefix -l ,$(LANGS)) --add-location file --no-obsolete --ignore 'privacy/*'
	cd src/tessera && DJANGO_SETTINGS_MODULE=tessera.settings.test ../../$(BIN)/python -m django compilemessages

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
