"""Evaluation: scoring parsed model generations against gold answers (see ``metrics``)."""
