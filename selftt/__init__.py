"""selftt: Self-Translate-Train for large language models (arXiv 2407.00454)."""

import logging

__version__ = "0.1.0"

# bitsandbytes warns at import, on CPUs with AVX512-BF16, that it cannot fetch a CPU kernel
# from the hub. selftt turns that kernel's code path off (see
# selftt.modules.loading.disable_cpu_weight_repacking), so the warning is only noise.
logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(
    lambda record: "kernels-community" not in record.getMessage()
)
