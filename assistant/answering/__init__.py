"""Answering: one chain (condense -> retrieve -> abstain? -> answer -> verify citations), two
answerers (extractive, offline; LLM, configured)."""
