"""Protocol-faithful local fake servers (arXiv API and RSS, OpenAI-compatible LLM) for the tests."""
