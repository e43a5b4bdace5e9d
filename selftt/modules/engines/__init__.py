"""Generation engines: ``hf`` (selftt's batched generator, in process) and ``vllm`` (a vLLM
worker process); :class:`~selftt.modules.engines.protocol.TextGenerator` is what both provide."""
