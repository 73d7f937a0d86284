"""The terminal frontend: plain-text and Markdown renderings of digests and paper cards."""
