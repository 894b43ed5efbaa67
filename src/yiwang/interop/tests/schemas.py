"""The Open311 GeoReport v2 JSON Schemas (open311/schema-validation, Draft 4), copied
unchanged into specs/ from the shared specs folder, because CI clones this repository
alone. jsonschema has no date-time or uri checker without extra packages, so the two
formats the schemas use are checked here as the spec words them."""

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS = Path(__file__).parent / "specs"
FILES = ("services", "service", "service-definition", "requests", "request")
_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _with_zone(value: object) -> bool:
    """ISO 8601 with its zone: "Timezone information … must be included"."""
    return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None


@_formats.checks("uri")
def _absolute(value: object) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme and parts.netloc)


def _schema(name: str) -> dict:
    return json.loads((SPECS / f"{name}.json").read_text(encoding="utf-8"))


REGISTRY = Registry().with_resources(
    (f"{name}.json", Resource.from_contents(_schema(name), default_specification=DRAFT4))
    for name in FILES
)


def problems(name: str, document: object) -> list[str]:
    """Everything `document` breaks in the named schema (empty: valid)."""
    validator = Draft4Validator(_schema(name), registry=REGISTRY, format_checker=_formats)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
