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

.PHONY: install test test-fast demo train train-summarizer bench-classifier bench-summarizer clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0   # the CPU build; a looser pin pulls CUDA
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
	$(BIN)/newsdesk train-summarizer --data $(SUMMARIZER_DATA) --models $(MODELS)

train: $(MODELS)/classifier/config.json

train-summarizer: $(MODELS)/summarizer/config.json

demo: install train
	$(BIN)/newsdesk classify --models $(MODELS) $(SAMPLES) --limit 12

bench-classifier: install
	$(BIN)/python -m training.bench_classifier --data $(LABELED) --models $(MODELS)/bench

bench-summarizer: install
	$(BIN)/python -m training.bench_summarizer --data $(WAR) --models $(MODELS)/bench

clean:
	rm -rf $(MODELS) .pytest_cache
