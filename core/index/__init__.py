"""The index: a vector store collection and a lexical index over the same chunks, per generation."""
