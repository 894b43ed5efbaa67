"""The shipped processes, driven start to end through the engine interface.

Every step goes through serialize/deserialize, as it will in the case service
(the state is stored with the case between requests)."""

import json

import pytest

from yiwang.workflow.engine import (
    Definition,
    Instance,
    InvalidTaskData,
    TransitionNotAllowed,
    get_engine,
)
from yiwang.workflow.services import shipped_files

engine = get_engine()


@pytest.fixture(scope="module")
def default() -> Definition:
    return engine.load_definition(shipped_files("default_approval"), None, "default_approval")


@pytest.fixture(scope="module")
def parallel() -> Definition:
    return engine.load_definition(shipped_files("parallel_review"), None, "parallel_review")


def roundtrip(instance: Instance) -> Instance:
    state = json.loads(json.dumps(engine.serialize(instance)))
    return engine.deserialize(instance.definition, state)


def ready(instance: Instance) -> list[tuple[str, str, str]]:
    return sorted((t.name, t.lane, t.department) for t in engine.ready_user_tasks(instance))


def drive(definition: Definition, steps: list[tuple[str, dict]]) -> tuple[Instance, list]:
    """Complete the named ready task with its data for each step; record what was ready."""
    instance = roundtrip(engine.start(definition, {"applicant": "张三"}))
    seen = []
    for name, data in steps:
        seen.append(ready(instance))
        task = next(t for t in engine.ready_user_tasks(instance) if t.name == name)
        engine.complete(instance, task.task_id, data)
        instance = roundtrip(instance)
    return instance, seen


DEFAULT_PATHS = {
    "grant": (
        [
            ("precheck", {"precheck_result": "pass"}),
            ("accept", {"accept_result": "accept"}),
            ("review", {"review_result": "pass", "opinion": "材料齐全"}),
            ("decision", {"decision_result": "grant"}),
        ],
        {"decision_result": "grant"},
    ),
    "deny": (
        [
            ("precheck", {"precheck_result": "pass"}),
            ("accept", {"accept_result": "accept"}),
            ("review", {"review_result": "pass"}),
            ("decision", {"decision_result": "deny"}),
        ],
        {"decision_result": "deny"},
    ),
    "returned at precheck": ([("precheck", {"precheck_result": "return"})], {}),
    "refused at intake": (
        [
            ("precheck", {"precheck_result": "pass"}),
            ("accept", {"accept_result": "refuse", "reason": "不属于本部门职权"}),
        ],
        {"accept_result": "refuse"},
    ),
    "correction at intake": (
        [
            ("precheck", {"precheck_result": "pass"}),
            ("accept", {"accept_result": "correct", "correction_from": "accept"}),
            ("correction", {"corrected": True}),
            ("accept", {"accept_result": "accept"}),
            ("review", {"review_result": "pass"}),
            ("decision", {"decision_result": "grant"}),
        ],
        {"corrected": True, "decision_result": "grant"},
    ),
    "correction at review": (
        [
            ("precheck", {"precheck_result": "pass"}),
            ("accept", {"accept_result": "accept"}),
            ("review", {"review_result": "correct", "correction_from": "review"}),
            ("correction", {"corrected": True}),
            ("review", {"review_result": "pass"}),
            ("decision", {"decision_result": "grant"}),
        ],
        {"corrected": True, "decision_result": "grant"},
    ),
}


@pytest.mark.parametrize("path", DEFAULT_PATHS, ids=str)
def test_default_process_paths_end(default, path):
    steps, expected_data = DEFAULT_PATHS[path]
    instance, seen = drive(default, steps)

    assert engine.is_completed(instance)
    assert engine.ready_user_tasks(instance) == []
    # each step was the only ready task, in its role's lane
    assert [s[0][0] for s in seen] == [name for name, _ in steps]
    assert all(len(s) == 1 for s in seen)
    data = instance.workflow.data_objects | instance.workflow.last_task.data
    assert expected_data.items() <= data.items()


def test_default_process_lanes_name_roles(default):
    _, seen = drive(default, DEFAULT_PATHS["correction at review"][0])
    lanes = {task[0]: task[1] for step in seen for task in step}
    assert lanes == {
        "precheck": "intake",
        "accept": "intake",
        "review": "review",
        "correction": "applicant",
        "decision": "decision",
    }


def test_parallel_reviews_run_at_once_and_join_before_decision(parallel):
    instance = roundtrip(engine.start(parallel, {}))
    (accept,) = engine.ready_user_tasks(instance)
    engine.complete(instance, accept.task_id, {"accept_result": "accept"})
    instance = roundtrip(instance)
    assert ready(instance) == [
        ("review_joint", "review", "joint"),
        ("review_lead", "review", "lead"),
    ]

    lead = next(t for t in engine.ready_user_tasks(instance) if t.name == "review_lead")
    engine.complete(instance, lead.task_id, {"lead_opinion": "同意"})
    instance = roundtrip(instance)
    assert ready(instance) == [("review_joint", "review", "joint")]  # decision waits

    joint = engine.ready_user_tasks(instance)[0]
    engine.complete(instance, joint.task_id, {"joint_opinion": "同意"})
    instance = roundtrip(instance)
    (decision,) = engine.ready_user_tasks(instance)
    assert (decision.name, decision.lane) == ("decision", "decision")
    assert {"lead_opinion": "同意", "joint_opinion": "同意"}.items() <= decision.data.items()

    engine.complete(instance, decision.task_id, {"decision_result": "grant"})
    assert engine.is_completed(roundtrip(instance))


def test_parallel_refused_at_intake_ends(parallel):
    instance, _ = drive(parallel, [("accept", {"accept_result": "refuse"})])
    assert engine.is_completed(instance)


def _start_event_task_id(instance: Instance) -> str:
    return next(str(t.id) for t in instance.workflow.get_tasks() if t.task_spec.name == "start")


@pytest.mark.parametrize(
    "task_id",
    ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "the completed start event"],
)
def test_completing_a_task_that_is_not_ready_is_refused_and_changes_nothing(default, task_id):
    instance = engine.start(default, {})
    if task_id == "the completed start event":
        task_id = _start_event_task_id(instance)
    before = engine.serialize(instance)

    with pytest.raises(TransitionNotAllowed):
        engine.complete(instance, task_id, {"decision_result": "grant"})

    assert engine.serialize(instance) == before


def test_completing_a_task_twice_is_refused(default):
    instance = engine.start(default, {})
    (precheck,) = engine.ready_user_tasks(instance)
    engine.complete(instance, precheck.task_id, {"precheck_result": "pass"})
    before = engine.serialize(instance)
    with pytest.raises(TransitionNotAllowed):
        engine.complete(instance, precheck.task_id, {"precheck_result": "pass"})
    assert engine.serialize(instance) == before


@pytest.mark.parametrize(
    "data",
    [["not", "a", "dict"], {"__class__": 1}, {"_private": 1}, {"when": object()}],
    ids=["list", "dunder key", "underscore key", "not JSON"],
)
def test_task_data_must_be_a_plain_json_object(default, data):
    instance = engine.start(default, {})
    (precheck,) = engine.ready_user_tasks(instance)
    before = engine.serialize(instance)
    with pytest.raises(InvalidTaskData):
        engine.complete(instance, precheck.task_id, data)
    assert engine.serialize(instance) == before


def test_state_belongs_to_its_process(default, parallel):
    state = engine.serialize(engine.start(default, {}))
    with pytest.raises(Exception, match="parallel_review"):
        engine.deserialize(parallel, state)
