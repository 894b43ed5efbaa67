"""秒批: the listing's DMN decides first; "grant" ends the case, anything else goes to people.

Runs through SpiffWorkflow's DMN engine with the restricted expression evaluator,
serializing between steps as the case service will."""

import json

import pytest

from yiwang.workflow.engine import (
    Definition,
    DefinitionInvalid,
    EngineError,
    Instance,
    get_engine,
    validate_definition,
)
from yiwang.workflow.services import shipped_files

engine = get_engine()
FILES = shipped_files("instant_approval", "elderly_allowance")
BPMN = {"instant_approval.bpmn": FILES["instant_approval.bpmn"]}
DMN_TEXT = FILES["elderly_allowance.dmn"].decode()

RULE_80 = "规则1:年满80周岁、本市户籍、未领取其他高龄津贴"
RULE_60 = "规则2:年满60周岁不满80周岁、本市户籍、未领取其他高龄津贴"
RULE_MANUAL = "规则3:不满足秒批条件,转人工审核"


def dmn(old: str = "", new: str = "") -> dict[str, bytes]:
    assert old in DMN_TEXT
    return {"elderly_allowance.dmn": DMN_TEXT.replace(old, new, 1).encode()}


@pytest.fixture(scope="module")
def instant() -> Definition:
    return engine.load_definition(BPMN, dmn(), "instant_approval")


def roundtrip(instance: Instance) -> Instance:
    state = json.loads(json.dumps(engine.serialize(instance)))
    return engine.deserialize(instance.definition, state)


def data_of(instance: Instance) -> dict:
    return instance.workflow.last_task.data


APPLICANT = {"applicant_age": 80, "residence_in_city": True, "receives_other_allowance": False}

# change to the applicant -> (path, rule, allowance per month)
ELDERLY = {
    "59 years": ({"applicant_age": 59}, "manual", RULE_MANUAL, 0),
    "60 years": ({"applicant_age": 60}, "instant", RULE_60, 100),
    "79 years": ({"applicant_age": 79}, "instant", RULE_60, 100),
    "80 years": ({"applicant_age": 80}, "instant", RULE_80, 300),
    "95 years": ({"applicant_age": 95}, "instant", RULE_80, 300),
    "not resident": ({"applicant_age": 85, "residence_in_city": False}, "manual", RULE_MANUAL, 0),
    "other allowance": (
        {"applicant_age": 85, "receives_other_allowance": True},
        "manual",
        RULE_MANUAL,
        0,
    ),
    "age missing": ({"applicant_age": None}, "manual", RULE_MANUAL, 0),
    "age unknown": ({"applicant_age": "八十"}, "manual", RULE_MANUAL, 0),
    "residence missing": ({"residence_in_city": None}, "manual", RULE_MANUAL, 0),
}


@pytest.mark.parametrize("case", ELDERLY, ids=str)
def test_elderly_allowance_rules(instant, case):
    change, path, rule, amount = ELDERLY[case]
    data = {k: v for k, v in {**APPLICANT, **change}.items() if v is not None}

    instance = roundtrip(engine.start(instant, data))

    result = data_of(instance)
    assert (result["instant_rule"], result["allowance_amount"]) == (rule, amount)
    if path == "instant":
        assert engine.is_completed(instance)
        assert engine.ready_user_tasks(instance) == []
        assert (result["instant_result"], result["decision_result"]) == ("grant", "grant")
    else:
        assert not engine.is_completed(instance)
        (task,) = engine.ready_user_tasks(instance)
        assert (task.name, task.lane) == ("precheck", "intake")
        assert result["instant_result"] == "manual"
        assert "decision_result" not in result


def test_manual_path_is_the_default_process(instant):
    """Same step ids, lanes and data names as default_approval, so cases treat both alike."""
    instance = roundtrip(engine.start(instant, {**APPLICANT, "applicant_age": 50}))
    steps = [
        ("precheck", "intake", {"precheck_result": "pass"}),
        ("accept", "intake", {"accept_result": "correct", "correction_from": "accept"}),
        ("correction", "applicant", {"corrected": True}),
        ("accept", "intake", {"accept_result": "accept"}),
        ("review", "review", {"review_result": "pass"}),
        ("decision", "decision", {"decision_result": "deny"}),
    ]
    for name, lane, data in steps:
        (task,) = engine.ready_user_tasks(instance)
        assert (task.name, task.lane) == (name, lane)
        engine.complete(instance, task.task_id, data)
        instance = roundtrip(instance)
    assert engine.is_completed(instance)
    assert data_of(instance)["decision_result"] == "deny"


def test_a_table_without_a_matching_rule_is_a_clear_engine_error():
    files = dmn('<text>"manual"</text>', '<text>"manual"</text>')
    text = files["elderly_allowance.dmn"].decode()
    start = text.index('<rule id="rule_manual">')
    end = text.index("</rule>", start) + len("</rule>")
    definition = engine.load_definition(
        BPMN, {"e.dmn": (text[:start] + text[end:]).encode()}, "instant_approval"
    )
    with pytest.raises(EngineError, match="没有匹配的规则"):
        engine.start(definition, {**APPLICANT, "applicant_age": 50})


BAD_DMN = {
    "unsafe input cell": (dmn("&gt;= 80", "__import__('os')"), "rule_80_plus_age", "只能调用"),
    "unsafe output cell": (
        dmn("<text>300</text>", "<text>().__class__</text>"),
        "rule_80_plus_amount",
        "下划线",
    ),
    "unsupported hit policy": (
        dmn('hitPolicy="FIRST"', 'hitPolicy="PRIORITY"'),
        "elderly_allowance_table",
        "命中策略",
    ),
    "no instant_rule output": (
        dmn('name="instant_rule"', 'name="rule"'),
        "instant_decision",
        "instant_rule",
    ),
    "no decision instant_decision": (
        dmn('<decision id="instant_decision"', '<decision id="other"'),
        "instant_decision",
        "不存在",
    ),
    "no dmn at all": (None, "instant_decision", "不存在"),
}


@pytest.mark.parametrize("case", BAD_DMN, ids=str)
def test_bad_decision_tables_are_refused_naming_the_element(case):
    files, element, message = BAD_DMN[case]
    problems = validate_definition(BPMN, files, "instant_approval")
    assert any(p.element == element and message in p.message for p in problems), problems
    with pytest.raises(DefinitionInvalid):
        engine.load_definition(BPMN, files, "instant_approval")


def test_business_rule_task_must_name_its_decision():
    bpmn = BPMN["instant_approval.bpmn"].replace(b' camunda:decisionRef="instant_decision"', b"")
    problems = validate_definition({"p.bpmn": bpmn}, dmn(), "instant_approval")
    assert any(p.element == "instant_check" and "decisionRef" in p.message for p in problems)
