"""Building the code-switched and weighted parts of the training mixture."""

from __future__ import annotations

import random

from selftt.tasks import Example, Task


def code_switch(task: Task, source: Example, translated: Example, direction: str) -> Example:
    """An example whose input fields are in one language and output fields in the other.

    ``tgt-src``: the translated input (question, context, premise...) with the source-language
    output (answer, label word); ``src-tgt``: the reverse.
    """
    inputs, outputs = (translated, source) if direction == "tgt-src" else (source, translated)
    example = {**inputs, **{f: outputs[f] for f in task.outputs if f in outputs}}
    example["id"] = f"{source['id']}@cs-{inputs['lang']}-{outputs['lang']}"
    example["lang"] = inputs["lang"]
    example["target_lang"] = outputs["lang"]
    return example


def apply_weight(examples: list[Example], weight: float, seed: int) -> list[Example]:
    """``floor(weight)`` copies of ``examples`` plus a seeded random ``weight % 1`` share of them."""
    whole = int(weight)
    out = examples * whole
    rest = round((weight - whole) * len(examples))
    if rest:
        out += random.Random(seed).sample(examples, rest)
    return out
