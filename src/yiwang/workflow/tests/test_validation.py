"""Process files are refused on upload with a message naming the element at fault."""

import pytest

from yiwang.workflow.engine import DefinitionInvalid, get_engine, validate_definition
from yiwang.workflow.scripts import SCRIPTS, register_script
from yiwang.workflow.services import shipped_files

GOOD = shipped_files("default_approval")["default_approval.bpmn"].decode()
DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d"
             namespace="https://yiwang.example/dmn">
  <decision id="elderly" name="高龄津贴">
    <decisionTable id="elderly_table">
      <input id="input_age" label="年龄">
        <inputExpression id="age_expr" typeRef="integer"><text>age</text></inputExpression>
      </input>
      <output id="output_result" name="result" typeRef="string"/>
      <rule id="rule_old">
        <inputEntry id="rule_old_age"><text>{entry}</text></inputEntry>
        <outputEntry id="rule_old_result"><text>"grant"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def bpmn(old: str, new: str) -> dict[str, bytes]:
    assert old in GOOD
    return {"p.bpmn": GOOD.replace(old, new, 1).encode()}


SCRIPT_TASK = (
    '<bpmn:scriptTask id="compute_fee" name="计算费用"><bpmn:script>{body}</bpmn:script>'
    "</bpmn:scriptTask></bpmn:process>"
)

CASES = {
    "user task outside any lane": (
        bpmn("<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", ""),
        "review",
        "不在任何泳道",
    ),
    "lane that names no role": (
        bpmn('name="审查"', 'name="财务"'),
        "review",
        "不是已知角色",
    ),
    "unknown script": (
        bpmn("</bpmn:process>", SCRIPT_TASK.format(body="os_system()")),
        "compute_fee",
        "未登记",
    ),
    "free python in a script": (
        bpmn("</bpmn:process>", SCRIPT_TASK.format(body="import os")),
        "compute_fee",
        "未登记",
    ),
    "dunder in a condition": (
        bpmn('precheck_result == "return"', "precheck_result.__class__ == 1"),
        "flow_precheck_return",
        "下划线",
    ),
    "call outside the allow-list": (
        bpmn('precheck_result == "return"', "open('/etc/passwd')"),
        "flow_precheck_return",
        "只能调用",
    ),
    "lambda in a condition": (
        bpmn('precheck_result == "return"', "(lambda: 1)"),
        "flow_precheck_return",
        "Lambda",
    ),
    "comprehension in a condition": (
        bpmn('precheck_result == "return"', "[x for x in ()]"),
        "flow_precheck_return",
        "ListComp",
    ),
    "condition that does not parse": (
        bpmn('precheck_result == "return"', "precheck_result =="),
        "flow_precheck_return",
        "不是有效的表达式",
    ),
    "unsafe timer expression": (
        bpmn(
            "</bpmn:process>",
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="timer">'
            "<bpmn:timeDuration>__import__('os')</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent></bpmn:process>",
        ),
        "timer",
        "只能调用",
    ),
    "malformed XML": (bpmn("</bpmn:process>", "</bpmn:proc>"), "p.bpmn", "不是有效的 XML"),
    "missing process id": (
        bpmn('id="default_approval" name', 'id="other" name'),
        "default_approval",
        "没有编号为",
    ),
    "not BPMN by its schema": (
        bpmn('<bpmn:userTask id="decision"', '<bpmn:userTask id="decision" colour="red"'),
        "p.bpmn",
        "BPMN/DMN",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_definitions_are_refused_naming_the_element(case):
    files, element, message = CASES[case]
    problems = validate_definition(files, None, "default_approval")
    assert problems, "should be refused"
    assert any(p.element == element and message in p.message for p in problems), problems

    with pytest.raises(DefinitionInvalid) as raised:
        get_engine().load_definition(files, None, "default_approval")
    assert element in str(raised.value)


@pytest.mark.parametrize("name", ["default_approval", "parallel_review"])
def test_shipped_processes_are_valid(name):
    assert validate_definition(shipped_files(name), None, name) == []


def test_lanes_accept_english_role_names():
    files = bpmn('name="审查"', 'name="review"')
    assert validate_definition(files, None, "default_approval") == []


def test_registered_script_is_accepted_and_runs():
    @register_script("set_fee")
    def set_fee(data):
        data["fee"] = 0

    try:
        files = bpmn(
            '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="precheck"/>',
            '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="fee"/>'
            '<bpmn:scriptTask id="fee"><bpmn:incoming>flow_start</bpmn:incoming>'
            "<bpmn:outgoing>flow_fee</bpmn:outgoing><bpmn:script>set_fee()</bpmn:script>"
            "</bpmn:scriptTask>"
            '<bpmn:sequenceFlow id="flow_fee" sourceRef="fee" targetRef="precheck"/>',
        )
        files = {
            "p.bpmn": files["p.bpmn"].replace(
                b"<bpmn:incoming>flow_start<", b"<bpmn:incoming>flow_fee<", 1
            )
        }
        files = {
            "p.bpmn": files["p.bpmn"].replace(
                b"<bpmn:flowNodeRef>start</bpmn:flowNodeRef>",
                b"<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>fee</bpmn:flowNodeRef>",
            )
        }
        engine = get_engine()
        definition = engine.load_definition(files, None, "default_approval")
        (task,) = engine.ready_user_tasks(engine.start(definition, {}))
        assert task.data["fee"] == 0
    finally:
        SCRIPTS.pop("set_fee")


@pytest.mark.parametrize(
    "entry, refused",
    [(">= 60", False), ('"60"', False), ("__import__('os')", True), (">= ().__class__", True)],
)
def test_dmn_cells_are_checked(entry, refused):
    dmn = {"elderly.dmn": DMN.format(entry=entry).encode()}
    problems = validate_definition(shipped_files("default_approval"), dmn, "default_approval")
    assert bool(problems) is refused
    if refused:
        assert problems[0].element == "rule_old_age"


def test_malformed_dmn_is_refused_naming_the_file():
    dmn = {"elderly.dmn": b"<definitions"}
    problems = validate_definition(shipped_files("default_approval"), dmn, "default_approval")
    assert [p.element for p in problems] == ["elderly.dmn"]
