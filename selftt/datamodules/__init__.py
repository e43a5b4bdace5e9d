"""The training mixture (source, self-translated, code-switched), tokenization and batching.

Import from the modules themselves (``selftt.datamodules.datamodule.SelfTTDataModule``,
``selftt.datamodules.components.DataComponent``): this package file imports nothing, so the
plain modules (``tokenization``, ``prompting``) load without Lightning.
"""
