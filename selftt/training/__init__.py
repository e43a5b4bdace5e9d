"""The training loop's own pieces: the Trainer subclass, checkpoint IO, rank watchdog, non-finite
loss stop, RNG state, adapter export and sync, prediction writer, throughput and hparams logging."""
