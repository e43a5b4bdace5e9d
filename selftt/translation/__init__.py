"""Self-translation: few-shot prompts, shots, the translation cache and quality scoring."""
