"""The JSON the model must answer with, as a strict JSON schema and as a pydantic model.

The schema goes to the server (`response_format`); the pydantic model checks what actually came
back, because a server may ignore the schema (json_object mode, or a lax implementation).
Counts and lengths are deliberately not in the schema: strict mode on several servers rejects
``minItems``/``maxLength``, and `validate.py` checks them with messages the model can act on.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

if TYPE_CHECKING:  # types only: importing the SDK costs ~0.4 s, and a run without a key never does
    from openai.types.shared_params import ResponseFormatJSONObject, ResponseFormatJSONSchema

SCHEMA_NAME = "paper_summary"

SUMMARY_JSON_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "tldr": {
            "type": "string",
            "description": "One sentence stating the paper's main contribution.",
        },
        "takeaways": {
            "type": "array",
            "description": "3 to 7 distinct key takeaways, one sentence each.",
            "items": {"type": "string"},
        },
    },
    "required": ["tldr", "takeaways"],
    "additionalProperties": False,
}


class SummaryPayload(BaseModel):
    """What we accept back. Unknown extra keys are ignored (json_object servers add some)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tldr: StrictStr
    takeaways: list[StrictStr]


def json_schema_format() -> ResponseFormatJSONSchema:
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": SUMMARY_JSON_SCHEMA, "strict": True},
    }


def json_object_format() -> ResponseFormatJSONObject:
    return {"type": "json_object"}


_FENCE_RE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def parse_payload(content: str) -> tuple[SummaryPayload | None, list[str]]:
    """Parse a model answer; return the payload or the problems (written for the model)."""
    text = content.strip()
    fenced = _FENCE_RE.match(text)
    if fenced:  # a Markdown code fence around otherwise valid JSON is a habit, not an error
        text = fenced.group(1)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"the answer is not valid JSON ({exc.msg}); reply with one JSON object only"]
    try:
        return SummaryPayload.model_validate(data), []
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        return None, [
            'the JSON does not match {"tldr": string, "takeaways": [string, ...]}: ' + details
        ]
