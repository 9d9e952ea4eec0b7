"""The evaluation suite: golden questions, hierarchy-aware retrieval metrics, Ragas metrics,
baselines computed in the same run, thresholds as data, a report per run."""
