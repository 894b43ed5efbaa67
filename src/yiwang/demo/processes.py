"""Processes and online-application setups (表单、流程、环节时限) of the demo listings.

`data/forms.yaml` names, per listing 实施编码, a shipped process, the form (JSON
Schema) and per-step limits. The shipped processes are uploaded once through
`workflow.services.ensure_shipped`; each listing's `ListingProcess` row is written
by `save_listing_process`, which refuses a schema or step table that would break
the application form, so a mistake in the data file stops the load with the
listing and the problem named instead of surfacing as a broken form later.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from yiwang.audit.services import changes, record, snapshot
from yiwang.cases.formschema import check_schema
from yiwang.cases.models import ListingProcess
from yiwang.catalog.models import ServiceListing
from yiwang.demo.loader import SectionReport, read_yaml
from yiwang.workflow import services as workflow

# forms.yaml names the shipped BPMN; the key a listing refers to may differ: the generic
# 秒批 process is stored once per decision table (docs/workflow.md "Stored definitions").
PROCESSES: dict[str, dict[str, str | None]] = {
    "default_approval": {"key": "default_approval", "dmn": None, "process": None},
    "parallel_review": {"key": "parallel_review", "dmn": None, "process": None},
    "instant_approval": {
        "key": "instant_approval_elderly",
        "dmn": "elderly_allowance",
        "process": "instant_approval",
    },
}
SETUP_FIELDS = ["process_key", "form_schema", "step_days", "is_active"]


def forms() -> dict[str, dict[str, Any]]:
    """forms.yaml's listings by 实施编码."""
    return read_yaml("forms.yaml")["listings"]


def process_key(entry: Mapping[str, Any]) -> str:
    try:
        return str(PROCESSES[entry["process"]]["key"])
    except KeyError:
        raise ValidationError(
            {"process": [f"未知的流程“{entry.get('process')}”,可选:{'、'.join(PROCESSES)}"]}
        ) from None


def ensure_processes() -> SectionReport:
    """Upload each shipped process the demo uses, unless a version of its key exists."""
    report = SectionReport("processes")
    for spec in PROCESSES.values():
        key = str(spec["key"])
        existed = workflow.ProcessDefinition.objects.filter(key=key).exists()
        workflow.ensure_shipped(None, key, spec["dmn"], process=spec["process"])
        report.counts["unchanged" if existed else "created"] += 1
    return report


def _check_step_days(step_days: Any) -> list[str]:
    if not isinstance(step_days, Mapping):
        return ["环节时限应为“环节: 工作日数”的对照表"]
    return [
        f"环节“{step}”的时限应为正整数个工作日,当前为 {days!r}"
        for step, days in step_days.items()
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0
    ]


@transaction.atomic
def save_listing_process(
    listing: ServiceListing,
    *,
    process_key: str,
    form_schema: dict[str, Any],
    step_days: Mapping[str, int] | None = None,
) -> tuple[ListingProcess, str]:
    """Create or update a listing's setup; returns it and "created"/"updated"/"unchanged".

    Raises ValidationError naming the listing when the schema or the limits are unusable.
    """
    step_days = dict(step_days or {})
    problems = check_schema(form_schema) + _check_step_days(step_days)
    if not workflow.ProcessDefinition.objects.filter(key=process_key, is_active=True).exists():
        problems.append(f"流程“{process_key}”没有启用的版本")
    if problems:
        raise ValidationError(
            {"form_schema": [f"{listing.implementation_code} {listing.name}:{p}" for p in problems]}
        )
    wanted = {
        "process_key": process_key,
        "form_schema": form_schema,
        "step_days": step_days,
        "is_active": True,
    }
    setup = ListingProcess.objects.select_for_update().filter(listing=listing).first()
    if setup is None:
        setup = ListingProcess.objects.create(listing=listing, **wanted)
        record(None, "cases.listing_process_created", setup, after=snapshot(setup, SETUP_FIELDS))
        return setup, "created"
    before = snapshot(setup, SETUP_FIELDS)
    for name, value in wanted.items():
        setattr(setup, name, value)
    old, new = changes(before, snapshot(setup, SETUP_FIELDS))
    if not new:
        return setup, "unchanged"
    setup.save()
    record(None, "cases.listing_process_updated", setup, before=old, after=new)
    return setup, "updated"


@transaction.atomic
def load_setups() -> SectionReport:
    """A setup for every listing in forms.yaml; a listing missing from the catalog is an error."""
    report = SectionReport("online forms")
    entries = forms()
    listings = {
        listing.implementation_code: listing
        for listing in ServiceListing.objects.filter(implementation_code__in=entries)
    }
    missing = sorted(set(entries) - set(listings))
    if missing:
        raise ValidationError(
            {"listing": [f"forms.yaml 中的实施编码不在目录中:{'、'.join(missing)}"]}
        )
    for code, entry in entries.items():
        _setup, outcome = save_listing_process(
            listings[code],
            process_key=process_key(entry),
            form_schema=entry["schema"],
            step_days=entry.get("step_days"),
        )
        report.counts[outcome] += 1
    return report
