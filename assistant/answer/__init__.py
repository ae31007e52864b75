"""Answering from passages: extractive or LLM answers and the verification of their citations."""
