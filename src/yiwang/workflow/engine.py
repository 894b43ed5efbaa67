"""The process engine behind an interface (docs/decisions/0008).

The rest of the platform talks to `WorkflowEngine` only: it loads a validated
definition, starts instances, lists the ready user tasks, completes one and
stores the instance as JSON. `SpiffEngine` implements it with SpiffWorkflow 3;
another engine could replace it without touching cases or the console.

Every expression the engine evaluates (gateway conditions, DMN cells) goes
through `yiwang.workflow.expressions`, and script tasks may only call names from
`yiwang.workflow.scripts.SCRIPTS`, because SpiffWorkflow would otherwise `eval`
whatever an uploaded file contains.
"""

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from yiwang.workflow import expressions
from yiwang.workflow.scripts import SCRIPTS, script_name

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}
# A business rule task names its DMN decision with `camunda:decisionRef` (as Camunda Modeler does).
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DECISION_REF = f"{{{CAMUNDA_NS}}}decisionRef"
# The decision instant_approval.bpmn calls; a listing's DMN must provide it with these outputs.
INSTANT_DECISION = "instant_decision"
INSTANT_OUTPUTS = ("instant_result", "instant_rule")
# SpiffWorkflow implements only these; it would silently treat PRIORITY, ANY, ... as FIRST.
HIT_POLICIES = ("FIRST", "UNIQUE", "COLLECT")

# Lanes name roles; the Chinese labels are accepted and normalized.
ROLE_ALIASES = {
    "intake": "intake",
    "受理": "intake",
    "review": "review",
    "审查": "review",
    "decision": "decision",
    "决定": "decision",
    "applicant": "applicant",
    "申请人": "applicant",
}
STAFF_ROLES = ("intake", "review", "decision")
LANE_ROLES = (*STAFF_ROLES, "applicant")
DEPARTMENT_SEPARATORS = (":", ":")


class WorkflowError(Exception):
    """Base of the errors the workflow interface raises."""


class DefinitionInvalid(WorkflowError):
    """A process file was refused; `problems` lists every reason, each naming an element."""

    def __init__(self, problems: list["Problem"]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class TransitionNotAllowed(WorkflowError):
    """The task is not a ready user task of this instance: nothing was changed."""


class InvalidTaskData(WorkflowError):
    """Data handed to the engine is not a JSON object with plain keys."""


class EngineError(WorkflowError):
    """The engine failed while running (e.g. no gateway path matched); discard the instance."""


@dataclass(frozen=True)
class Problem:
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.element}: {self.message}"


@dataclass(frozen=True)
class Lane:
    role: str
    department: str = ""


@dataclass
class Definition:
    """A parsed, validated process, ready to start instances from."""

    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    _spec_state: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class Instance:
    definition: Definition
    workflow: Any


@dataclass(frozen=True)
class UserTaskInfo:
    task_id: str
    name: str
    title: str
    lane: str
    department: str
    data: dict[str, Any]


def parse_lane(name: str | None) -> Lane | None:
    """`审查` or `review:市场监管局` -> Lane(role, department); None if the role is unknown."""
    text = (name or "").strip()
    department = ""
    for separator in DEPARTMENT_SEPARATORS:
        if separator in text:
            text, department = (part.strip() for part in text.split(separator, 1))
            break
    role = ROLE_ALIASES.get(text.lower()) or ROLE_ALIASES.get(text)
    return Lane(role, department) if role else None


class WorkflowEngine(Protocol):
    def load_definition(
        self, bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes] | None, process_id: str
    ) -> Definition: ...

    def start(self, definition: Definition, data: dict[str, Any]) -> Instance: ...

    def ready_user_tasks(self, instance: Instance) -> list[UserTaskInfo]: ...

    def complete(self, instance: Instance, task_id: str, data: dict[str, Any]) -> None: ...

    def run_until_wait(self, instance: Instance) -> None: ...

    def is_completed(self, instance: Instance) -> bool: ...

    def process_data(self, instance: Instance) -> dict[str, Any]: ...

    def serialize(self, instance: Instance) -> dict[str, Any]: ...

    def deserialize(self, definition: Definition, state: dict[str, Any]) -> Instance: ...

    def refresh_timers(self, instance: Instance) -> None: ...


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression, context, external_context=None):
        return expressions.evaluate(expression, {**context, **(external_context or {})})

    def execute(self, script, context, external_context=None):
        name = script_name(script)
        if name not in SCRIPTS:
            raise EngineError(f"脚本 {script!r} 未登记,不能执行")
        SCRIPTS[name](context)
        return True

    def call_service(self, context, **kwargs):
        raise EngineError("不支持服务任务")


class _DecisionTable(DMNEngine):
    """SpiffWorkflow's decision table with FEEL's treatment of missing values.

    An input cell whose value is missing (no such data name) or not comparable
    (`None >= 80`, `"80" >= 80`) does not match, as a FEEL `null` would not: the
    table falls through to a later rule (秒批 takes the manual path) instead of
    failing the case. A table where no rule matches is an error naming it.
    """

    def evaluate(self, input_expr, match_expr, task):
        try:
            return super().evaluate(input_expr, match_expr, task)
        except WorkflowTaskException as exc:
            if exc.error_type in ("NameError", "TypeError"):
                return False
            raise

    def result(self, task):
        table = self.decision_table
        if table.hit_policy != "COLLECT" and not self.decide(task):
            raise EngineError(
                f"决策表“{table.name or table.id}”没有匹配的规则:"
                "请在最后加一条各输入列都为 - 的兜底规则"
            )
        return super().result(task)


class BusinessRuleTask(BusinessRuleTaskMixin, BpmnSpecMixin):
    """A bpmn:businessRuleTask evaluating one DMN decision."""


class _BusinessRuleTaskParser(TaskParser):
    def create_task(self):
        decision_ref = self.get_decision_ref(self.node)
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
            **self.bpmn_attributes,
        )

    @staticmethod
    def get_decision_ref(node):
        decision_ref = node.get(DECISION_REF)
        if not decision_ref:
            raise ValidationException("businessRuleTask needs camunda:decisionRef", node=node)
        return decision_ref


class _Parser(BpmnDmnParser):
    OVERRIDE_PARSER_CLASSES = {
        full_tag("businessRuleTask"): (_BusinessRuleTaskParser, BusinessRuleTask),
    }

    def get_engine(self, decision_ref, node):
        return _DecisionTable(super().get_engine(decision_ref, node).decision_table)


class _BusinessRuleTaskConverter(BaseBusinessRuleTaskConverter):
    def from_dict(self, dct):
        spec = super().from_dict(dct)
        spec.dmnEngine = _DecisionTable(spec.dmnEngine.decision_table)
        return spec


SERIALIZER_CONFIG = {**DEFAULT_CONFIG, BusinessRuleTask: _BusinessRuleTaskConverter}


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def _parse_xml(files: dict[str, bytes], problems: list[Problem]) -> dict[str, Any]:
    trees = {}
    for filename, content in files.items():
        try:
            trees[filename] = etree.fromstring(content, _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(filename, f"不是有效的 XML(第 {exc.lineno} 行:{exc.msg})"))
    return trees


EXPRESSION_TAGS = (
    "conditionExpression",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
    "condition",
)


def _check_bpmn_tree(root: Any, problems: list[Problem]) -> None:
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        lane_of: dict[str, str] = {}
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                lane_of[(ref.text or "").strip()] = lane.get("name", "")
        for task in process.iter(f"{{{BPMN_NS}}}userTask"):
            task_id = task.get("id", "?")
            if task_id not in lane_of:
                problems.append(Problem(task_id, "用户任务不在任何泳道中,请把它放进一个角色泳道"))
            elif parse_lane(lane_of[task_id]) is None:
                roles = "、".join(LANE_ROLES)
                problems.append(
                    Problem(task_id, f"泳道名称“{lane_of[task_id]}”不是已知角色,应为:{roles}")
                )
        for task in process.iter(f"{{{BPMN_NS}}}scriptTask"):
            body = task.findtext("bpmn:script", default="", namespaces=NS)
            name = script_name(body)
            if name not in SCRIPTS:
                known = "、".join(sorted(SCRIPTS)) or "(无)"
                problems.append(
                    Problem(task.get("id", "?"), f"脚本“{body.strip()}”未登记,可用脚本:{known}")
                )
        for task in process.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            if not task.get(DECISION_REF):
                problems.append(
                    Problem(
                        task.get("id", "?"),
                        "业务规则任务缺少 camunda:decisionRef,请填写要调用的 DMN 决策编号",
                    )
                )
        # Every element the engine evaluates as an expression, not only gateway conditions.
        for element in process.iter(*(f"{{{BPMN_NS}}}{tag}" for tag in EXPRESSION_TAGS)):
            text = (element.text or "").strip()
            if not text:
                continue
            owner = element
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            try:
                expressions.check_expression(text)
            except expressions.UnsafeExpression as exc:
                where = owner.get("id") if owner is not None else "?"
                problems.append(Problem(where, f"表达式“{text}”{exc}"))


def _check_dmn_tree(root: Any, filename: str, problems: list[Problem]) -> None:
    for element in root.iter("{*}decisionTable"):
        policy = element.get("hitPolicy", "UNIQUE").upper()
        if policy not in HIT_POLICIES:
            problems.append(
                Problem(
                    element.get("id") or filename,
                    f"命中策略 {policy} 不受支持,请使用:{'、'.join(HIT_POLICIES)}",
                )
            )
    for decision in root.iter("{*}decision"):
        if decision.get("id") != INSTANT_DECISION:
            continue
        outputs = {output.get("name") for output in decision.iter("{*}output")}
        missing = [name for name in INSTANT_OUTPUTS if name not in outputs]
        if missing:
            problems.append(Problem(INSTANT_DECISION, f"秒批决策表缺少输出列:{'、'.join(missing)}"))
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local not in {"inputExpression", "inputEntry", "outputEntry"}:
            continue
        text = "".join(element.itertext()).strip()
        if not text or text == "-":
            continue
        text = text.replace("?", "dmninputexpr")
        element_id = element.get("id") or element.getparent().get("id") or filename
        try:
            expressions.check_expression(text)
        except expressions.UnsafeExpression as first:
            if local != "inputEntry":
                problems.append(Problem(element_id, f"表达式“{text}”{first}"))
                continue
            try:
                expressions.check_expression(f"v {text}")
            except expressions.UnsafeExpression:
                problems.append(Problem(element_id, f"表达式“{text}”{first}"))


def _spiff_problem(exc: Exception, filename: str) -> Problem:
    element = getattr(exc, "id", "") or getattr(exc, "file_name", "") or filename
    return Problem(element, f"流程文件不符合 BPMN/DMN 规范:{exc}")


def _parse(
    bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes] | None, process_id: str
) -> tuple[Definition | None, list[Problem]]:
    problems: list[Problem] = []
    if not bpmn_files:
        return None, [Problem("bpmn", "请上传至少一个 .bpmn 流程文件")]
    bpmn_trees = _parse_xml(bpmn_files, problems)
    dmn_trees = _parse_xml(dmn_files or {}, problems)
    if problems:
        return None, problems
    for root in bpmn_trees.values():
        _check_bpmn_tree(root, problems)
    for filename, root in dmn_trees.items():
        _check_dmn_tree(root, filename, problems)

    parser = _Parser(validator=BpmnValidator())
    for filename, root in bpmn_trees.items():
        try:
            parser.add_bpmn_xml(root, filename)
        except SpiffWorkflowException as exc:
            problems.append(_spiff_problem(exc, filename))
    for filename, root in dmn_trees.items():
        try:
            parser.add_dmn_xml(root, filename)
        except SpiffWorkflowException as exc:
            problems.append(_spiff_problem(exc, filename))
        except Exception as exc:  # DMNParser raises plain errors for missing parts
            problems.append(Problem(filename, f"DMN 决策表无法解析:{exc}"))
    if problems:
        return None, problems
    for ref in sorted(parser.get_dmn_dependencies() - set(parser.dmn_parsers)):
        problems.append(
            Problem(ref, f"流程调用的 DMN 决策 {ref} 不存在,请同时上传包含该决策的 .dmn 文件")
        )
    if problems:
        return None, problems
    if process_id not in parser.get_process_ids():
        known = "、".join(parser.get_process_ids()) or "(无)"
        return None, [Problem(process_id, f"文件中没有编号为 {process_id} 的流程,已有:{known}")]
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as exc:
        return None, [_spiff_problem(exc, process_id)]
    name = spec.description if spec.description and spec.description != process_id else ""
    return Definition(process_id, name or process_id, spec, subprocess_specs), []


def validate_definition(
    bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes] | None, process_id: str
) -> list[Problem]:
    """Every reason the files cannot be used, each naming the element; empty if fine."""
    return _parse(bpmn_files, dmn_files, process_id)[1]


def _check_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidTaskData("办理数据必须是 JSON 对象")
    for key in data:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise InvalidTaskData(
                f"数据项名称 {key!r} 无效:只能用字母、数字和下划线,不能以下划线开头"
            )
    try:
        return json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise InvalidTaskData(f"办理数据不能转换为 JSON:{exc}") from exc


class SpiffEngine:
    """`WorkflowEngine` on SpiffWorkflow 3 with a restricted script engine."""

    def __init__(self) -> None:
        self.script_engine = PythonScriptEngine(environment=_RestrictedEnvironment())
        self.serializer = BpmnWorkflowSerializer(
            BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG)
        )

    def load_definition(
        self, bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes] | None, process_id: str
    ) -> Definition:
        definition, problems = _parse(bpmn_files, dmn_files, process_id)
        if problems or definition is None:
            raise DefinitionInvalid(problems)
        return definition

    def start(self, definition: Definition, data: dict[str, Any]) -> Instance:
        data = _check_data(data)
        workflow = BpmnWorkflow(
            definition.spec, definition.subprocess_specs, script_engine=self.script_engine
        )
        workflow.get_next_task(state=TaskState.READY).data.update(data)
        instance = Instance(definition, workflow)
        self.run_until_wait(instance)
        return instance

    def ready_user_tasks(self, instance: Instance) -> list[UserTaskInfo]:
        tasks = instance.workflow.get_tasks(state=TaskState.READY, manual=True)
        return [self._info(task) for task in tasks if isinstance(task.task_spec, UserTask)]

    def _info(self, task: Any) -> UserTaskInfo:
        spec = task.task_spec
        lane = parse_lane(spec.lane) or Lane("")
        return UserTaskInfo(
            task_id=str(task.id),
            name=spec.bpmn_id,
            title=spec.bpmn_name or spec.bpmn_id,
            lane=lane.role,
            department=lane.department,
            data=copy.deepcopy(task.data),
        )

    def complete(self, instance: Instance, task_id: str, data: dict[str, Any]) -> None:
        """Complete a ready user task with its form data and run to the next wait."""
        data = _check_data(data)
        try:
            task = instance.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TaskNotFoundException) as exc:
            raise TransitionNotAllowed(f"任务 {task_id} 不属于此流程实例") from exc
        if not isinstance(task.task_spec, UserTask) or task.state != TaskState.READY:
            raise TransitionNotAllowed(
                f"任务“{task.task_spec.bpmn_name or task.task_spec.name}”当前不可办理"
            )
        task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc
        self.run_until_wait(instance)

    def run_until_wait(self, instance: Instance) -> None:
        try:
            instance.workflow.do_engine_steps()
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc

    def is_completed(self, instance: Instance) -> bool:
        return instance.workflow.is_completed()

    def process_data(self, instance: Instance) -> dict[str, Any]:
        """The data a finished process ended with (what its end events saw)."""
        return copy.deepcopy(instance.workflow.data)

    def refresh_timers(self, instance: Instance) -> None:
        """Fire due timers; SpiffWorkflow only does this when asked (MACHINE.md)."""
        try:
            instance.workflow.refresh_waiting_tasks()
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc
        self.run_until_wait(instance)

    def serialize(self, instance: Instance) -> dict[str, Any]:
        """JSON-safe state without the process spec: the stored definition version supplies it."""
        state = json.loads(self.serializer.serialize_json(instance.workflow))
        state.pop("spec")
        state.pop("subprocess_specs", None)
        state["process_id"] = instance.definition.process_id
        return state

    def deserialize(self, definition: Definition, state: dict[str, Any]) -> Instance:
        if state.get("process_id") != definition.process_id:
            raise EngineError(
                f"流程状态属于 {state.get('process_id')},与流程 {definition.process_id} 不符"
            )
        if definition._spec_state is None:
            definition._spec_state = {
                "spec": self.serializer.to_dict(definition.spec),
                "subprocess_specs": {
                    name: self.serializer.to_dict(spec)
                    for name, spec in definition.subprocess_specs.items()
                },
            }
        dct = copy.deepcopy({k: v for k, v in state.items() if k != "process_id"})
        dct.update(copy.deepcopy(definition._spec_state))
        self.serializer.migrate(dct)
        workflow = self.serializer.from_dict(dct)
        workflow.script_engine = self.script_engine
        return Instance(definition, workflow)


_engine = SpiffEngine()


def get_engine() -> WorkflowEngine:
    """The engine the platform uses; swap here to replace SpiffWorkflow."""
    return _engine
