"""Summaries: validated LLM TL;DRs and takeaways, an extractive fallback, and their cache policy."""
