# The README's two commands: `make run` and `make test`.
PYTHON := .venv/bin/python
TEST_ENV := var/test/node.env

.PHONY: deps run stop test

deps:
	@scripts/install-deps.sh

run: deps
	@$(PYTHON) -m localservices run

stop:
	@$(PYTHON) -m localservices stop

test: deps
	@$(PYTHON) -m localservices up test
	@STRONGROOM_ENV_FILE=$(TEST_ENV) $(PYTHON) manage.py collectstatic --noinput -v 0
	STRONGROOM_ENV_FILE=$(TEST_ENV) $(PYTHON) -m pytest $(PYTEST_ARGS)
