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

# The stages of the long operations, as a progress display names them.
COLLECT_STAGE, REPORT_STAGE, TEMPLATES_STAGE = "读取报送文件", "生成汇总报告和反馈表", "生成填报模板"
