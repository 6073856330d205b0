"""Text: extract with a regular expression, safely bounded in pattern size and time."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import regex
from pydantic import Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import DataComponent, invalid_config, prop, shape
from apg_workflow.components.errors import BpmnError

NO_MATCH = "no-match"
"""The BPMN error code when a required pattern does not match."""

MAX_PATTERN = 1000


@lru_cache(maxsize=512)
def _compile(pattern: str, flags: int) -> regex.Pattern[str]:
    return regex.compile(pattern, flags | regex.VERSION0)


class RegexExtractConfig(ComponentConfig):
    pattern: str = Field(
        min_length=1,
        max_length=MAX_PATTERN,
        description="A regular expression (Python syntax). Named groups `(?P<name>…)` become fields.",
    )
    ignore_case: bool = Field(False, description="Match letters regardless of case.")
    multiline: bool = Field(False, description="`^` and `$` match at every line's start and end.")
    dotall: bool = Field(False, description="`.` matches line breaks too.")
    max_matches: int = Field(100, ge=1, le=10_000, description="Stop after this many matches.")
    required: bool = Field(False, description="Throw the BPMN error `no-match` when nothing matches.")
    timeout: float = Field(
        1.0,
        gt=0,
        le=10,
        description="Seconds the search may take; a pattern that backtracks catastrophically is stopped.",
    )

    @property
    def flags(self) -> int:
        return (
            (regex.IGNORECASE if self.ignore_case else 0)
            | (regex.MULTILINE if self.multiline else 0)
            | (regex.DOTALL if self.dotall else 0)
        )

    @model_validator(mode="after")
    def _compiles(self) -> RegexExtractConfig:
        try:
            _compile(self.pattern, self.flags)
        except regex.error as exc:
            raise invalid_config(f"invalid regular expression: {exc}") from None
        return self


class RegexExtract(DataComponent[RegexExtractConfig]):
    type = "data.regex_extract"
    title = "Extract with a regular expression"
    description = (
        "Finds the matches of a regular expression in a text and returns them with their groups "
        "(named groups as an object, otherwise a list). The pattern is limited to 1,000 characters "
        "and the search to `timeout` seconds."
    )
    Config = RegexExtractConfig
    inputs = shape(required=("text",), text=prop("the text to search", "string"))
    outputs = shape(
        matched=prop("whether there was a match", "boolean"),
        match=prop("the text of the first match", ["string", "null"]),
        groups=prop("the first match's groups", ["object", "array", "null"]),
        matches=prop("every match: `{match, groups, start, end}`", "array", items={"type": "object"}),
        count=prop("how many matches were found", "integer"),
    )
    examples = (
        {
            "config": {"pattern": r"INV-(?P<year>\d{4})-(?P<number>\d+)"},
            "inputs": {"text": "Re: invoice INV-2024-0042, due soon"},
            "outputs": {
                "matched": True,
                "match": "INV-2024-0042",
                "groups": {"year": "2024", "number": "0042"},
                "matches": [
                    {
                        "match": "INV-2024-0042",
                        "groups": {"year": "2024", "number": "0042"},
                        "start": 12,
                        "end": 25,
                    }
                ],
                "count": 1,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: RegexExtractConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        text = self.text(inputs)
        pattern = _compile(config.pattern, config.flags)
        matches = []
        try:
            for found in pattern.finditer(text, timeout=config.timeout):
                groups = found.groupdict() if pattern.groupindex else list(found.groups())
                matches.append(
                    {"match": found.group(0), "groups": groups, "start": found.start(), "end": found.end()}
                )
                if len(matches) >= config.max_matches:
                    break
        except TimeoutError:
            raise self.invalid(
                f"the pattern took longer than {config.timeout:g} s on this text (catastrophic "
                "backtracking?); simplify it or raise 'timeout'"
            ) from None
        if not matches and config.required:
            raise BpmnError(NO_MATCH, f"{self.type}: the pattern {config.pattern!r} does not match the text")
        first = matches[0] if matches else None
        return {
            "matched": first is not None,
            "match": first["match"] if first else None,
            "groups": first["groups"] if first else None,
            "matches": matches,
            "count": len(matches),
        }
