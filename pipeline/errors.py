"""Exceptions that stop a run. Problems inside units' files are findings, never these."""

from __future__ import annotations


class PipelineError(Exception):
    """A run cannot go on; the message (Chinese) says what to do."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        super().__init__(message)

    def __str__(self) -> str:
        head = self.args[0]
        if not self.problems:
            return head
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


class WorkspaceError(PipelineError):
    """The workspace is missing, incomplete or would be overwritten."""


class RegistryError(PipelineError):
    """The unit registry has problems; every one is listed."""


class PlanError(PipelineError):
    """The plan table cannot be read or names what the registry does not know."""


class SpecError(PipelineError):
    """The form spec in templates/ is malformed."""


class PeriodError(PipelineError):
    """A period is not of the form YYYY-MM or has nothing to work on."""


class InputError(PipelineError):
    """A file or folder named on the command line is missing or of the wrong kind."""


class TemplateError(PipelineError):
    """An office-edited Word template cannot be filled in."""


class OutputError(PipelineError):
    """An output file could not be written."""
