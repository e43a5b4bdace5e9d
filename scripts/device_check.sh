#!/usr/bin/env bash
# The GPU check (see benchmarks/README.md, "Device check"): QLoRA and bf16 LoRA training through
# `python -m selftt fit` against the HF Trainer + peft, batched generation, correctness, on
# random-initialised Llama-3-8B, Llama-3.2-1B and Gemma-3-270M shapes, inside a time budget.
#
#   scripts/device_check.sh OUT_DIR [benchmarks/device_check.py options]
#
# Runs under the host's own torch/transformers/peft/lightning. What the host lacks is installed
# from wheels in .whl/ (git-ignored; scripts/fetch_device_wheels.sh downloads them) into a
# folder of its own, nothing else is touched. Writes OUT_DIR/device_check.{json,md,log}.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/device_check.sh OUT_DIR [device_check.py options]}"
shift
py="${PYTHON:-python3}"
site="${SELFTT_DEVICE_SITE:-/tmp/selftt-device-site}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export TRANSFORMERS_NO_ADVISORY_WARNINGS=1

missing=()
for module in bitsandbytes jsonargparse docstring_parser typeshed_client datasets; do
  "$py" -c "import $module" 2>/dev/null || missing+=("$module")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "device_check: this Python lacks ${missing[*]} and .whl/ holds no wheels (scripts/fetch_device_wheels.sh)" >&2
    exit 2
  fi
  echo "device_check: installing ${missing[*]} (and their wheels' companions) from .whl/ into $site"
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$out"
"$py" benchmarks/device_check.py --out "$out" "$@" 2>&1 | tee "$out/device_check.log"
