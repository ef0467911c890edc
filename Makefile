# Every target that needs Python depends on the virtual environment, so any target
# works as the very first command on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)
LESSON ?=
# Extra options for reset, bugs, bench, stress and loadtest, e.g. make stress ARGS="--minutes 5".
ARGS ?=
# Where make serve (the site) and make app (the chat app) listen on 127.0.0.1: make app APP_PORT=8011.
PORT ?= 8000
APP_PORT ?= 8001

.PHONY: setup check progress hint watch quiz reset bugs verify test test-app serve site lab app bench stress loadtest doctor clean

setup: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "This course needs Python 3.11 or newer; found " + sys.version.split()[0] + ".")'
	@echo "Setting up the course environment in $(VENV) (first run only)..."
	@rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check --no-input -r requirements.lock > $(VENV)/pip.log 2>&1 \
		|| { tail -n 30 $(VENV)/pip.log; echo "Installing the pinned packages failed; the full log is in $(VENV)/pip.log."; exit 1; }
	@touch $@
	@echo "Environment ready."

define need_lesson
	@test -n "$(LESSON)" || { echo "Say which lesson, for example: make $(1) LESSON=1"; exit 2; }
endef

check: $(STAMP)
	$(call need_lesson,check)
	@$(PY) -m course check $(LESSON)

progress: $(STAMP)
	@$(PY) -m course progress

hint: $(STAMP)
	$(call need_lesson,hint)
	@$(PY) -m course hint $(LESSON)

watch: $(STAMP)
	$(call need_lesson,watch)
	@$(PY) -m course watch $(LESSON)

quiz: $(STAMP)
	$(call need_lesson,quiz)
	@$(PY) -m course quiz $(LESSON)

reset: $(STAMP)
	$(call need_lesson,reset)
	@$(PY) -m course reset $(LESSON) $(ARGS)

bugs: $(STAMP)
	$(call need_lesson,bugs)
	@$(PY) -m course bugs $(LESSON) $(ARGS)

verify: $(STAMP)
	@$(PY) -m course verify

test-app: $(STAMP)
	@$(PY) -m pytest

# The course's own verification: what CI runs.
test: $(STAMP)
	@$(PY) -m pytest
	@$(PY) -m course verify

site: $(STAMP)
	@NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# The servers replace make's shell (exec): Ctrl-C stops them, and so does stopping make, since make
# passes SIGTERM on to the process it runs.
serve: $(STAMP)
	@NO_MKDOCS_2_WARNING=1 exec $(PY) -m mkdocs serve --dev-addr 127.0.0.1:$(PORT)

# JupyterLab on the lessons' notebooks, reachable from this machine only. The repository root goes on
# PYTHONPATH so that the kernels, which start in lessons/, can import course and app.
# More options: make lab LAB_ARGS="--no-browser --ServerApp.port=0" (as root, add --allow-root).
lab: $(STAMP)
	@PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=lessons $(LAB_ARGS)

app: $(STAMP)
	@CHAT_FAKE_TOKEN_DELAY=$${CHAT_FAKE_TOKEN_DELAY:-0.03} exec $(PY) -m uvicorn app.main:app --host 127.0.0.1 --port $(APP_PORT)

bench: $(STAMP)
	@$(PY) -m course bench $(ARGS)

stress: $(STAMP)
	@$(PY) -m course stress $(ARGS)

loadtest: $(STAMP)
	@$(PY) -m course loadtest $(ARGS)

doctor: $(STAMP)
	@$(PY) -m course doctor

clean:
	rm -rf $(VENV) site .pytest_cache .course
