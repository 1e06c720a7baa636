"""Add listings to the index and die (SIGKILL) in the middle of the commit.

    python -m tests.search.killed_writer INDEX_DIR

The table of contents is the last file a Whoosh commit writes; the process kills itself
as it starts to write it, after the new segment's files are on disk.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import whoosh.index

from marketplace.search.backend import SearchDocument
from marketplace.search.whoosh_backend import WhooshBackend


def die(*args: object, **kwargs: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(folder: str) -> None:
    backend = WhooshBackend(Path(folder))
    whoosh.index.TOC.write = die  # the fault: death at the last step of the commit
    documents = [
        SearchDocument(1000 + n, f"Khô cá {n}", "", "Shop", "Khô", "Cà Mau", 1, 2, 1, 96, 0,
                       100_000, True, 1_700_000_000)
        for n in range(50)
    ]  # fmt: skip
    backend.index(documents)


if __name__ == "__main__":
    main(sys.argv[1])
