#!/usr/bin/env bash
# Download into .whl/ (git-ignored) the wheels scripts/device_check.sh installs on the GPU host,
# whose image lacks them (Python 3.12, x86-64; about 45 MB, mostly bitsandbytes). Needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any -d .whl \
  bitsandbytes==0.50.2 jsonargparse==4.53.0 docstring_parser==0.18.0 typeshed_client==2.15.0 \
  datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
