"""Embeddings of code: token-aware chunks (chunk.py), offline tiktoken (tokens.py), and the OpenAI-compatible
provider with its retries and cache (provider.py)."""
