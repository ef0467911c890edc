# Every target that needs Python depends on the virtual environment, so any target
# works as the very first command on a fresh clone. Learners get requirements.lock only;
# `make lab` adds JupyterLab, and the maintainers' targets (test, site, verify...) add
# requirements-dev.lock. course/tools/install.py does the work (standard library only; uv when it is
# on PATH, pip otherwise), the same code as `python -m course setup` without make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A stamp per lock file, named after the setup's version and the lock's checksum: a changed lock is
# installed again, and a setup that does more (v2: it caches pytest's rewritten plugins) runs once more
# (course/tools/locks.py computes the same name).
stamp = $(VENV)/.installed-v2-$(basename $(1))-$(shell cksum < $(1) | cut -d' ' -f1)
LEARNER := $(call stamp,requirements.lock)
LAB := $(call stamp,requirements-lab.lock)
DEV := $(call stamp,requirements-dev.lock)
LESSON ?=
# Extra options for reset, bugs, bench, stress and loadtest, e.g. make stress ARGS="--minutes 5".
ARGS ?=
# Install from a folder of wheels made by `make bundle`, without the network: make setup BUNDLE=bundle
BUNDLE ?=
INSTALL := $(strip $(PYTHON) -m course.tools.install $(if $(BUNDLE),--bundle $(BUNDLE)))
# make serve's host; HOST=0.0.0.0 makes the site reachable from the room.
HOST ?= 127.0.0.1
# Where make serve (the site) and make app (the chat app) listen: make app APP_PORT=8011.
PORT ?= 8000
APP_PORT ?= 8001
UV_VERSION := 0.13.9
LOCK_TOOL := .cache/uv-$(UV_VERSION)
COMPILE = $(LOCK_TOOL)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --no-annotate \
	--custom-compile-command "make lock" --quiet
MKDOCS := NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs

.PHONY: setup setup-lab setup-dev check progress hint watch quiz reset bugs verify test test-app serve site \
	learner-site deploy lab app bench stress loadtest doctor audit lock bundle handout clean

setup: $(LEARNER)
setup-lab: $(LAB)
setup-dev: $(DEV)

$(LEARNER): requirements.lock
	@$(INSTALL) --group learner

$(LAB): requirements-lab.lock $(LEARNER)
	@$(INSTALL) --group lab

$(DEV): requirements-dev.lock $(LEARNER)
	@$(INSTALL) --group dev

# Before and without the environment: the doctor uses the standard library only, so it can say why
# the setup fails (Python, network, proxy) as well as what is wrong with an installed one.
doctor:
	@$(PYTHON) -m course.tools.doctor

# Write the three lock files from pyproject.toml with a pinned uv. Pins already in the locks are kept;
# make lock LOCK_ARGS=--upgrade (or --upgrade-package fastapi) moves them. Then run make test.
lock:
	@test -x $(LOCK_TOOL)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/python -m pip install \
		--quiet --disable-pip-version-check uv==$(UV_VERSION); }
	$(COMPILE) --extra lab --extra dev $(LOCK_ARGS) -o requirements-dev.lock
	$(COMPILE) --extra lab -c requirements-dev.lock -o requirements-lab.lock
	$(COMPILE) -c requirements-dev.lock -o requirements.lock

# The learner's wheels for this platform and Python, for a room without network: copy the course
# folder with bundle/ in it, then `make setup BUNDLE=bundle` (or python -m course setup --bundle bundle).
BUNDLE_LOCK ?= requirements.lock
bundle: $(LEARNER)
	@$(PY) -m pip download --disable-pip-version-check --no-input --quiet -r $(BUNDLE_LOCK) -d bundle
	@echo "bundle/ holds $$(ls bundle | wc -l) files for $(BUNDLE_LOCK) ($$(du -sh bundle | cut -f1))."

define need_lesson
	@test -n "$(LESSON)" || { echo "Say which lesson, for example: make $(1) LESSON=1"; exit 2; }
endef

check: $(LEARNER)
	$(call need_lesson,check)
	@$(PY) -m course check $(LESSON)

progress: $(LEARNER)
	@$(PY) -m course progress

hint: $(LEARNER)
	$(call need_lesson,hint)
	@$(PY) -m course hint $(LESSON)

watch: $(LEARNER)
	$(call need_lesson,watch)
	@$(PY) -m course watch $(LESSON)

quiz: $(LEARNER)
	$(call need_lesson,quiz)
	@$(PY) -m course quiz $(LESSON)

reset: $(LEARNER)
	$(call need_lesson,reset)
	@$(PY) -m course reset $(LESSON) $(ARGS)

bugs: $(LEARNER)
	$(call need_lesson,bugs)
	@$(PY) -m course bugs $(LESSON) $(ARGS)

verify: $(DEV)
	@$(PY) -m course verify

test-app: $(DEV)
	@$(PY) -m pytest

# The course's own verification: what CI runs. The suite runs on two workers: much of it waits on
# graded children, servers and kernels, so a second worker nearly halves its wall time on two CPUs.
# worksteal hands each worker a contiguous half and splits only to rebalance, so a module's costly
# fixture is seldom built twice; it schedules by index, so the fuzz test's cases (one node id for
# each API operation) all run, where loadgroup and loadfile keep one of them.
# The two run one after the other: side by side (tried, one CI-like run) they ended only 30 s sooner,
# both being mostly CPU-bound, and the load stretched lesson 7's hang demo past its notebook's limit.
test: $(DEV)
	@$(PY) -m pytest -n 2 --dist worksteal
	@$(PY) -m course verify

site: $(DEV)
	@$(MKDOCS) build --strict

# The site without the instructors' pages (solutions, bug diffs), for learners: in learner-site/.
learner-site: $(DEV)
	@COURSE_SITE=learner $(MKDOCS) build --strict --site-dir learner-site

# make serve HOST=0.0.0.0 serves the site to the room (anyone on your network can read it, solutions included).
# The servers replace make's shell (exec): Ctrl-C stops them, and so does stopping make, since make
# passes SIGTERM on to the process it runs.
serve: $(DEV)
	@NO_MKDOCS_2_WARNING=1 exec $(PY) -m mkdocs serve --dev-addr $(HOST):$(PORT)

# Publish the site to the repository's gh-pages branch (GitHub Pages); site_url in mkdocs.yml names the address.
# COURSE_SITE=learner make deploy publishes the learner build instead.
deploy: $(DEV)
	@$(MKDOCS) gh-deploy --strict --force --no-history

# A copy of the course for learners without solutions/, in handout/ (a git repository of one commit).
handout: $(LEARNER)
	@$(PY) -m course.tools.handout handout

# JupyterLab on the lessons' notebooks, reachable from this machine only. The repository root goes on
# PYTHONPATH so that the kernels, which start in lessons/, can import course and app.
# More options: make lab LAB_ARGS="--no-browser --ServerApp.port=0" (as root, add --allow-root).
lab: $(LAB)
	@PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=lessons $(LAB_ARGS)

app: $(LEARNER)
	@CHAT_FAKE_TOKEN_DELAY=$${CHAT_FAKE_TOKEN_DELAY:-0.03} exec $(PY) -m uvicorn app.main:app --host 127.0.0.1 --port $(APP_PORT)

bench: $(DEV)
	@$(PY) -m course bench $(ARGS)

stress: $(DEV)
	@$(PY) -m course stress $(ARGS)

loadtest: $(LEARNER)
	@$(PY) -m course loadtest $(ARGS)

# Audit a project's async tests against what the lessons teach, e.g. make audit PROJECT=../my-service
# (ARGS="--run" also runs its suite, ARGS="--format json" for CI).
audit: $(LEARNER)
	@test -n "$(PROJECT)" || { echo "Say which project, for example: make audit PROJECT=exercises/lesson07"; exit 2; }
	@$(PY) -m course audit "$(PROJECT)" $(ARGS)

clean:
	rm -rf $(VENV) site learner-site .pytest_cache .course bundle
