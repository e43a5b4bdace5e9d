"""selftt: Self-Translate-Train for large language models (arXiv 2407.00454)."""

__version__ = "0.1.0"
