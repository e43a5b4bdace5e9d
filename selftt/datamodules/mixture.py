"""Building the code-switched and weighted parts of the training mixture."""

from __future__ import annotations

import random

from lightning.pytorch.utilities import rank_zero_warn

from selftt.datamodules.components import DataComponent
from selftt.tasks import Example, Task
from selftt.translation.handoff import TranslatedSet


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


def translated_components(
    task: Task, components: list[DataComponent], translated: TranslatedSet
) -> list[tuple[int, DataComponent, list[Example]]]:
    """(index, component, examples) of each 'tgt' and 'cs' component of ``translated.lang``:
    'tgt' is the kept translations, 'cs' each (source, translation) pair code-switched."""
    out = []
    for i, comp in enumerate(components):
        if comp.name == "src" or comp.lang != translated.lang:
            continue
        if comp.name == "tgt":
            examples = [target for _, target in translated.pairs]
        else:
            examples = [code_switch(task, source, target, comp.direction) for source, target in translated.pairs]
            _warn_if_duplicates(task, translated.pairs, examples, comp.direction, i)
        out.append((i, comp, examples))
    return out


def _warn_if_duplicates(
    task: Task, pairs: list[tuple[Example, Example]], switched: list[Example], direction: str, index: int
) -> None:
    """Warn when every code-switched example makes the same prompt and target as the example it
    takes its input from (a task whose outputs are not translated and whose ``target`` ignores
    ``target_lang``): such a 'cs' component only counts those examples twice."""
    if not switched:
        return
    same_as = [target if direction == "tgt-src" else source for source, target in pairs]
    if all(
        task.instruction(cs) == task.instruction(other) and task.target(cs) == task.target(other)
        for cs, other in zip(switched, same_as, strict=True)
    ):
        kind = "tgt" if direction == "tgt-src" else "src"
        rank_zero_warn(
            f"data.components[{index}] (cs, {direction}): every code-switched example is the same as its "
            f"{kind} example for task '{task.name}' (its outputs {', '.join(task.outputs) or '(none)'} are not "
            "translated and its target() does not read example['target_lang']); it only counts them twice"
        )
