#!/usr/bin/env bash
# Does Gemma 3 270M score above zero on math (MGSM)? The study (scripts/run_study.py) leaves math
# out only if both runs below score near zero (accuracy of the final number, MGSM questions 5-54
# in de, ru, th and zh; the report also shows zero-shot on questions 1-4):
#   FewShot: the untrained model, MGSM's first 4 questions (question, final number) as in-context
#            examples (engine: vLLM when SELFTT_VLLM_PYTHON names its Python, else hf);
#   zero-shot transfer: LoRA on 400 GSM8K training examples (English), then MGSM (same engine).
# Configuration: configs/experiment/study/mgsm_check.yaml; runs under logs/mgsm-check/ (beside the
# study, not in its report), then: python -m selftt report --logs logs/mgsm-check.
set -euo pipefail
cd "$(dirname "$0")/.."
config=configs/experiment/study/mgsm_check.yaml
engine=hf
[ -n "${SELFTT_VLLM_PYTHON:-}" ] && engine=vllm
sets='['
for lang in de ru th zh; do
  sets+="{\"path\": \"../shared/data/mgsm/mgsm_$lang.tsv\", \"lang\": \"$lang\", \"name\": \"mgsm_$lang\", \"limit\": 50, \"fewshot\": 4},"
done
sets="${sets%,}]"
python -m selftt validate --config "$config" --data.val_sets "$sets" \
  --trainer.logger.init_args.name fewshot --model.engine.name "$engine"
python -m selftt fit --config "$config" --model.engine.name "$engine"
python -m selftt report --logs logs/mgsm-check
