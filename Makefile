# Two commands do everything on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 8000

.PHONY: run test install system-packages lint format messages ci clean audit

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Shop:   http://127.0.0.1:$(PORT)/        (English: http://127.0.0.1:$(PORT)/en/)"
	@echo "  Admin:  http://127.0.0.1:$(PORT)/admin/"
	@echo "  Logins: demo@example.com / demo-pass-2026      (customer)"
	@echo "          other@example.com / demo-pass-2026     (another customer)"
	@echo "          admin@example.com / admin-pass-2026    (operator)"
	@echo "          support@example.com / support-pass-2026 (support staff)"
	@echo "  Test card: 4242 4242 4242 4242, 3-D Secure: 4000 0027 6000 3184 (any future date, any CVC)"
	@echo "  Ctrl-C stops everything."
	@echo
	PATH="$(BIN):$$PATH" WEB_PORT=$(PORT) $(BIN)/honcho start -f Procfile

# Chromium and the CJK fonts for the browser tests: installed through apt-get when missing and we
# run as root, otherwise a one-line instruction and a failure.
system-packages:
	@bash .ci/system-packages

# `make test PYTEST_ARGS="tests/licenses -k throttle"` runs a part of the suite.
test: install system-packages
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Needs GNU gettext (msgfmt); the compiled .mo files are committed so a fresh machine needs none.
messages: install
	$(BIN)/python manage.py makemessages -l ja --no-obsolete --no-wrap --add-location file -i ".venv/*" -i "var/*"
	$(BIN)/python manage.py compilemessages -l ja -i .venv

ci:
	bash .ci/run

# Lighthouse (pinned npm package, Node 20, Debian's Chromium) over every customer page on a
# phone, served as in production; writes docs/audit.md. Not part of `make test`.
audit: install
	$(BIN)/python bench/audit.py $(AUDIT_ARGS)

clean:
	rm -rf var $(VENV)
