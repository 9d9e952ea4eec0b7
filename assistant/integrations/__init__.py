"""Doors for other software: LangChain (``langchain``)."""
