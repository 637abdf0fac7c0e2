"""Find job IDs in whatever an analyst pastes: a list, a JSON answer, log lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

UUID_RE = re.compile(
    r"(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])",
    re.IGNORECASE,
)
SAMPLE_SIZE = 3


@dataclass(frozen=True)
class ParsedIds:
    job_ids: list[str]  # lower-cased, first occurrence order, no repeats
    repeats: int  # occurrences dropped as repeats
    ignored_lines: list[str]  # non-blank lines with no UUID in them

    def summary(self) -> str:
        """One sentence for the analyst: what was found and what was left out."""
        found = len(self.job_ids)
        parts = [f"Found {found} job ID{'' if found == 1 else 's'}"]
        if self.repeats:
            parts.append(f"{self.repeats} repeat{'' if self.repeats == 1 else 's'} dropped")
        if self.ignored_lines:
            count = len(self.ignored_lines)
            sample = ", ".join(f"“{_clip(line)}”" for line in self.ignored_lines[:SAMPLE_SIZE])
            more = "…" if count > SAMPLE_SIZE else ""
            parts.append(f"{count} line{'' if count == 1 else 's'} without an ID ignored ({sample}{more})")
        return "; ".join(parts) + "."


def _clip(line: str, width: int = 40) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def extract_job_ids(text: str) -> ParsedIds:
    found: dict[str, None] = {}
    occurrences = 0
    ignored = []
    for line in text.splitlines():
        matches = UUID_RE.findall(line)
        if not matches and line.strip():
            ignored.append(line.strip())
        for match in matches:
            occurrences += 1
            found.setdefault(match.lower())
    return ParsedIds(job_ids=list(found), repeats=occurrences - len(found), ignored_lines=ignored)
