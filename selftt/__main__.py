import logging
import sys

from selftt.cli import cli_main


def show_progress_notes() -> None:
    """selftt's INFO notes (what is cached, how many pieces a retry repaired, model loading) go
    to stderr as ``selftt: ...`` lines when selftt runs as a program."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("selftt: %(message)s"))
    logger = logging.getLogger("selftt")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


if __name__ == "__main__":
    show_progress_notes()
    cli_main()
