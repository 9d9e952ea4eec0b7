# The README's commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# An offline mirror of the official sources (a folder of the manifest's files), if you have one.
MIRROR ?=
# Where torch comes from. Empty: pip's default (a CPU wheel in a local wheel folder if pip is set
# up with one, else the standard build with its CUDA libraries). For the small CPU-only build:
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH := $(shell grep '^torch==' requirements.lock)

.PHONY: venv run serve load bench bench-latency bench-cold-ask measure-embedders fetch ingest sources train test test-fast docs lint lock pdfs clean measure-ingest measure-ask calibrate eval

venv: $(STAMP)

# torch goes first, with its own dependencies (the lock leaves out the CUDA-only packages);
# everything else installs exactly as locked.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

fetch: venv
	$(BIN)/hipaa-assistant fetch $(if $(MIRROR),--mirror $(MIRROR)) || \
	  echo "fetch: some official sources are unavailable; the rest still works"

ingest: venv
	$(BIN)/hipaa-assistant ingest

sources: venv
	$(BIN)/hipaa-assistant sources

# Train the question encoder on the question index (minutes, CPU); used with
# HIPAA_ASSISTANT_RETRIEVAL__QUERY_TUNING=true (ingest then retrains it when its inputs change).
train: venv
	$(BIN)/hipaa-assistant train

# Fetch and index the sources, then start the chat UI and API on http://localhost:8000.
# Add a user first: .venv/bin/hipaa-assistant users add NAME --groups staff
run: fetch ingest sources serve

serve: venv
	$(BIN)/hipaa-assistant serve

# Lint and types first (about a minute), then the whole suite (its 20 slowest tests listed).
test: venv lint
	$(BIN)/python -m pytest --durations=20

test-fast: venv
	$(BIN)/python -m pytest -m "not slow"

# The guides in docs/ as a static site, in site/ (strict: a broken link between guides fails).
docs: venv
	$(BIN)/mkdocs build --strict

lint: venv
	$(BIN)/ruff check core assistant ingest tests scripts benchmarks
	$(BIN)/mypy

lock:
	scripts/lock.sh

pdfs: venv
	$(BIN)/python scripts/make_corpus_pdfs.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

# The evaluation suite (evals/profiles.yaml) on the built index (after `make run`); exits 1 below
# a threshold. `make eval EVAL_ARGS=--ablation` adds the ablation table.
EVAL_ARGS ?=
eval: venv
	$(BIN)/hipaa-assistant eval $(EVAL_ARGS)

# The benchmark runner: ingest, start-up, latency and memory at 1x, 10x and 50x the corpus, next
# to the LangChain tutorial pipeline (needs MIRROR=<folder of the official files>; hours at 50x).
SCALES ?= 1,10,50
bench: venv
	$(BIN)/python -m benchmarks.run --mirror $(MIRROR) --scales $(SCALES)

# Query latency alone at 1x, 10x, 50x: stand-in passage vectors, real question embedding (minutes).
bench-latency: venv
	$(BIN)/python -m benchmarks.run --mirror $(MIRROR) --scales $(SCALES) --latency-only

# Embedding throughput: sentence-transformers fp32 vs ONNX fp32 / int8, with their agreement.
measure-embedders: venv
	$(BIN)/python -m benchmarks.embedders

# 50 concurrent API clients for 60 s against a server on the built index (after `make run`).
load: venv
	$(BIN)/python -m benchmarks.load_api --clients 50 --seconds 60

# Warm `ask` latency on the built index (after `make run`).
measure-ask: venv
	$(BIN)/python scripts/measure_ask.py

# A one-shot `ask` from a cold process, with and without the questions' ONNX copy (after `make run`).
bench-cold-ask: venv
	$(BIN)/python -m benchmarks.cold_ask

# Re-derive the abstention thresholds on every eval profile's calibration questions at once
# (evals/profiles.yaml: Lakemont with and without its question files, the unseen organisation's
# development split), reported per profile.
calibrate: venv
	$(BIN)/python scripts/calibrate_abstention.py

# Ingest throughput on the bundled corpus + official sources (needs MIRROR=<folder of the files>).
measure-ingest: venv
	$(BIN)/python scripts/measure_ingest.py --mirror $(MIRROR)
