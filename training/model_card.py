"""Model cards (MODEL_CARD.md) written beside each trained model, from the training run's results."""
from __future__ import annotations

import json


def _scores_table(valid: dict) -> str:
    names = {"headline": "headline (served)", "headline_lead": "first 12 words", "headline_extractive": "extractive headline",
             "teaser": "teaser (served)", "teaser_lead": "Lead-1", "teaser_extractive": "extractive teaser"}
    rows = [f"| {names[k]} | {100 * m['rouge1']:.1f} | {100 * m['rouge2']:.1f} | {100 * m['rougeL']:.1f} | "
            f"{m['mean_words']:.1f} | {m['n']} |" for k, m in valid.items() if k in names]
    return "| output | ROUGE-1 | ROUGE-2 | ROUGE-L | mean words | n |\n| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows)


def summarizer_card(results: dict, summ) -> str:
    s, a, tr = summ.settings, results["args"], results["training"]
    gen = tr.get("generator")
    return f"""# newsdesk summarizer

Writes a headline (at most {s.headline_max_words} words) and a teaser (one or two sentences, at most {s.teaser_max_words}
words) for an English news article, from the article's own sentences:

1. a learned **selector** ranks the article's first sentences for each output (position, length, lexical
   salience and cues against captions, bylines and site text{"; MiniLM salience" if s.salience_encoder else ""});
2. the best-ranked sentences are **parsed** with spaCy's small English pipeline;
3. a learned **compressor** deletes whole subtrees (appositives, relative and adverbial clauses, prepositional
   phrases, time and place modifiers, a second clause) under the word limit, never the root verb, its subject or
   object, a complement the verb needs, a negation, a hedge or anything inside a quotation; for the headline a
   learned **reranker** scores every complete candidate of the best {s.parse_candidates} sentences together
   ({"fitted on " + str(results['reranker'].get('candidates')) + " candidates of " + str(results['reranker']['articles']) + " articles, ROUGE-L against the outlets' headlines" if results.get('reranker', {}).get('fitted') else "not fitted: the untrained order"});
4. the headline is put in **headline style** (present tense, "will" -> "to", passive auxiliaries and articles
   dropped, "President Vladimir Putin said" -> "Putin says"), only where the verb's subject and its number are
   known and the written form is the past of its lemma;
5. every output passes **form checks** (no dangling last word, no quotation left open, a kept main verb) and
   the **faithfulness guard** (numbers and names, spaCy's entities too, supported by the article); the teaser
   must not repeat the headline's clause. When nothing passes, the extractive path writes the output (and says so).

{"A sequence-to-sequence generator (" + str(a['base_model']) + ") writes both outputs through transformers' `generate`; its beam candidates pass the same guard, with the compressive path as fallback (" + str(gen['steps']) + " fine-tuning steps)." if gen else "No generator (the default base, MiniLM, is an encoder); give `--base-model` a T5/BART checkpoint to add one."}

## Data
- Files: {', '.join(results['data'])}; articles with a body of at least {a['min_body_words']} words.
- Duplicate-aware hash split: {json.dumps(results['articles'])} (validation {a['valid_fraction']}, test {a['test_fraction']}).
- Learned from {tr['articles_read']} train-split articles: selector examples {json.dumps(results['training_pairs'])};
  deletion units {json.dumps(results['deletion_units'])}, of which deleted by the outlets' editors
  {json.dumps({k: round(v, 3) for k, v in results['deleted_share'].items()})}.
- {tr['total_seconds'] / 60:.1f} min in all on {tr['machine']}.

## Validation ({a['eval_articles']} validation articles; ROUGE F1 x100, stemmed)
{_scores_table(results['valid']) if results['valid'] else 'none scored'}

Test-split numbers beside the lead baselines: docs/BENCHMARKS.md (`make bench-summarizer`).

## Limits
- English news like the training files above. Text spaCy parses badly (all capitals, no punctuation, a list,
  not English) gets the extractive path, with a warning.
- The guard checks numbers and names, not every claim: a compression can still drop context that mattered.
  Keep an editor in the loop.
"""
