# The README's two commands: `make run` and `make test`.
PYTHON := .venv/bin/python
TEST_ENV := var/test/node.env

.PHONY: deps run stop test bench

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

# The benchmark starts its own pair and OpenBao; `make bench BENCH_ARGS=--quick`.
bench: deps
	$(PYTHON) -m bench.run $(BENCH_ARGS)
