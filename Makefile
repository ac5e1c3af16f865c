# billdesk — the two Quick start commands (make run, make test) plus make bench.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB ?= demo/demo.sqlite3
DEMO_CLIENTS ?= 3000

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	@$(BIN)/python -m billdesk.qtcheck
	@if [ ! -f "$(DEMO_DB)" ]; then \
		mkdir -p "$(dir $(DEMO_DB))"; \
		echo "Creating a demo book with $(DEMO_CLIENTS) clients in $(DEMO_DB) …"; \
		$(BIN)/billdesk demo --db "$(DEMO_DB)" --clients $(DEMO_CLIENTS); \
	fi
	$(BIN)/billdesk --db "$(DEMO_DB)"

test: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
	QT_QPA_PLATFORM=offscreen BILLDESK_HOME="$$(mktemp -d)" $(BIN)/billdesk --smoke-test --db "$$(mktemp -d)/smoke.sqlite3"

# The timed processes start as an installed billdesk does, with its modules
# compiled once (even where PYTHONDONTWRITEBYTECODE keeps Python from caching them).
bench: $(VENV)/.installed-test
	$(BIN)/python -m compileall -q src >/dev/null
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) demo
