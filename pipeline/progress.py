"""How a long operation tells the one who started it how far it has got."""

from __future__ import annotations


class Progress:
    """``start(total)`` once with the number of items, then ``step(name)`` as each is done.

    This base reports nowhere; the command line draws a bar, tests count.
    """

    def start(self, total: int) -> None:
        """``total`` items are about to be worked on."""

    def step(self, name: str) -> None:
        """The item ``name`` is done."""


SILENT = Progress()
