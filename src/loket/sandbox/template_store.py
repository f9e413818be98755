"""Message templates per WABA: creation checks, review status, and the placeholders each one expects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loket.channel.limits import TEMPLATE_NAME_MAX
from loket.sandbox.errors import INVALID_PARAMETER, REQUIRED_PARAMETER, GraphError
from loket.sandbox.ids import node_id

JsonObject = dict[str, Any]

CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
COMPONENT_TYPES = frozenset({"HEADER", "BODY", "FOOTER", "BUTTONS"})
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})
_NAME = re.compile(r"[a-z0-9_]+")
_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def placeholders(text: str, parameter_format: str) -> list[str]:
    """Distinct placeholders in order of first appearance: ["1", "2"] or ["first_name", ...]."""
    pattern = _NAMED if parameter_format == "NAMED" else _POSITIONAL
    seen: list[str] = []
    for match in pattern.finditer(text):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


@dataclass(slots=True)
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[JsonObject]
    status: str
    parameter_format: str
    created_at: datetime
    rejected_reason: str = "NONE"
    history: list[tuple[str, datetime]] = field(default_factory=list)

    def component(self, kind: str) -> JsonObject | None:
        for component in self.components:
            if str(component.get("type", "")).upper() == kind:
                return component
        return None

    def buttons(self) -> list[JsonObject]:
        block = self.component("BUTTONS")
        buttons = block.get("buttons") if block else None
        return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []

    def as_dict(self) -> JsonObject:
        data: JsonObject = {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }
        if self.status == "REJECTED":
            data["rejected_reason"] = self.rejected_reason
        return data


def _check_components(components: object) -> list[JsonObject]:
    if components is None:
        return []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphError(INVALID_PARAMETER, "Param components must be an array of objects.")
    for index, component in enumerate(components):
        kind = str(component.get("type", "")).upper()
        if kind not in COMPONENT_TYPES:
            raise GraphError(INVALID_PARAMETER, f"Param components[{index}]['type'] is not a valid type.")
        if kind == "BODY" and not isinstance(component.get("text"), str):
            if not component.get("add_security_recommendation") and "text" not in component:
                raise GraphError(REQUIRED_PARAMETER, f"The parameter components[{index}]['text'] is required.")
    return list(components)


class TemplateStore:
    def __init__(self) -> None:
        self._templates: dict[str, Template] = {}

    def create(self, waba_id: str, body: JsonObject, now: datetime, status: str = "PENDING") -> Template:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise GraphError(REQUIRED_PARAMETER, "The parameter name is required.")
        if len(name) > TEMPLATE_NAME_MAX or not _NAME.fullmatch(name):
            raise GraphError(
                INVALID_PARAMETER,
                "Param name must be at most 512 characters of lowercase letters, digits and underscores.",
            )
        language = body.get("language")
        if not isinstance(language, str) or not language:
            raise GraphError(REQUIRED_PARAMETER, "The parameter language is required.")
        category = str(body.get("category", "")).upper()
        if category not in CATEGORIES:
            raise GraphError(INVALID_PARAMETER, "Param category must be one of {AUTHENTICATION, MARKETING, UTILITY}.")
        parameter_format = str(body.get("parameter_format", "POSITIONAL")).upper()
        if parameter_format not in {"POSITIONAL", "NAMED"}:
            raise GraphError(INVALID_PARAMETER, "Param parameter_format must be one of {NAMED, POSITIONAL}.")
        components = _check_components(body.get("components"))
        if self.find(waba_id, name, language) is not None:
            raise GraphError(
                INVALID_PARAMETER,
                f"Content in {language} already exists for the template {name}.",
                subcode=2388024,
            )
        template = Template(
            id=node_id(),
            waba_id=waba_id,
            name=name,
            language=language,
            category=category,
            components=components,
            status=status,
            parameter_format=parameter_format,
            created_at=now,
            history=[(status, now)],
        )
        self._templates[template.id] = template
        return template

    def find(self, waba_id: str, name: str, language: str) -> Template | None:
        for template in self._templates.values():
            if template.waba_id == waba_id and template.name == name and template.language == language:
                return template
        return None

    def get(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    def select(self, waba_id: str | None = None) -> list[Template]:
        return [t for t in self._templates.values() if waba_id is None or t.waba_id == waba_id]

    def delete(self, waba_id: str, name: str, hsm_id: str | None = None) -> list[Template]:
        doomed = [
            t
            for t in self._templates.values()
            if t.waba_id == waba_id and t.name == name and (hsm_id is None or t.id == hsm_id)
        ]
        for template in doomed:
            del self._templates[template.id]
        return doomed

    def clear(self) -> None:
        self._templates.clear()
