# Métropole — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell scripts/find-python)
VENV ?= .venv
BIN = $(VENV)/bin
MANAGE = $(BIN)/python manage.py
export DJANGO_DEBUG ?= 1
export METROPOLE_VAR_DIR ?= var

.PHONY: run test install lint format bench messages clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

install: $(BIN)/activate

## make run: set up the database with real demo data and serve http://127.0.0.1:8000
## (METROPOLE_PORT=8765 make run for another port; METROPOLE_HOST=0.0.0.0 to listen on every interface)
run: install
	mkdir -p $(METROPOLE_VAR_DIR)
	$(MANAGE) migrate --no-input -v0
	$(MANAGE) createcachetable
	$(MANAGE) load_demo -v0
	VENV=$(VENV) scripts/serve.sh

## make test: the whole test suite (DATABASE_URL=postgres://... to run it on PostgreSQL)
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run_all.py

## Compile translations after editing metropole/locale/*/LC_MESSAGES/django.po
messages: install
	$(MANAGE) makemessages -l fr -l en --ignore '.venv/*' --ignore 'tests/*'
	$(MANAGE) compilemessages --ignore '.venv/*'

clean:
	rm -rf var $(VENV) .pytest_cache
