"""Reviews: a paper's full review from its full text, validated, faithful to it, and cached."""
