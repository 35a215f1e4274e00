"""Standard BPMN that SpiffWorkflow runs runs here too: multi-instance with standard data
input/output, loopCardinality with an output collection, call activities across the files of one
deployment (in any order, nested), and form keys that name no deployed form."""
from __future__ import annotations

import pytest

from engine.services import cases
from engine.domain.access import Actor
from engine.adapters.serializer import LIVE_WORKFLOWS
from engine.services.definitions import definition_versions, deploy, deploy_files, deploy_paths, latest_definition
from engine.errors import InvalidDefinition
from engine.adapters.queries import CASE_VARIABLES, case_variables
from engine.adapters.models import Case
from tests.bpmn_text import around
from tests.conftest import BPMN, staff

DESIGNER = Actor("dora", "designer")
AGENT = Actor("alice", "agent")
UPLOAD = BPMN / "upload"
PROJECT = "2026-510117-34-01-000001"


def _deploy(runtime, data: bytes, name: str = "p.bpmn"):
    with runtime.unit_of_work() as uow:
        result = deploy(uow, DESIGNER, data, name)
        uow.commit()
    return result


def _deploy_files(runtime, files: list[tuple[bytes, str]]):
    with runtime.unit_of_work() as uow:
        result = deploy_files(uow, DESIGNER, files)
        uow.commit()
    return result


def _start(runtime, key: str, **variables) -> str:
    with runtime.unit_of_work() as uow:
        started = cases.start_case(uow, AGENT, key, PROJECT, variables=variables)
        uow.commit()
        return started.case.id


def _ready(runtime, case_id: str):
    with runtime.unit_of_work(write=False) as uow:
        return [t for t in cases.case_tasks(uow, case_id) if t.state == "ready"]


def _complete(runtime, task, data: dict, actor: Actor = AGENT) -> None:
    with runtime.unit_of_work() as uow:
        cases.complete_task(uow, actor, task.id, data)
        uow.commit()


def _case(runtime, case_id: str) -> tuple[Case, dict]:
    LIVE_WORKFLOWS.clear()  # read back from the database, as another server process would
    CASE_VARIABLES.clear()
    with runtime.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        return case, dict(case_variables(uow, case))


def _multi_instance(element: str, loop: str, inner: str = "") -> bytes:
    return around(f"""    <bpmn:{element} id="T" name="Per item"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics {loop}
      </bpmn:multiInstanceLoopCharacteristics>{inner}
    </bpmn:{element}>""")


STANDARD_IO = """>
        <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="item" name="item"/>
        <bpmn:outputDataItem id="opinion" name="opinion"/>"""
CARDINALITY_OUT = """>
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
        <bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>
        <bpmn:outputDataItem id="opinion" name="opinion"/>"""


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_user_task_multi_instance_with_standard_data_input_and_output(runtime, sequential):
    loop = ('isSequential="true"' if sequential else "") + STANDARD_IO
    _deploy(runtime, _multi_instance("userTask", loop))
    case_id = _start(runtime, "proc", items=["county.fgj", "county.zrzyj", "county.sthjj"])
    seen = []
    for _ in range(3):
        ready = _ready(runtime, case_id)
        assert len(ready) == (1 if sequential else 3 - len(seen))
        task = ready[0]
        seen.append(task.item["value"])
        _complete(runtime, task, {"opinion": f"agree ({task.item['value']})"})
    case, variables = _case(runtime, case_id)
    assert case.status == "completed" and case.error is None
    assert sorted(seen) == ["county.fgj", "county.sthjj", "county.zrzyj"]
    assert sorted(variables["opinions"]) == sorted(f"agree ({d})" for d in seen)
    if sequential:
        assert seen == ["county.fgj", "county.zrzyj", "county.sthjj"]


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_script_multi_instance_with_standard_data_input_and_output(runtime, sequential):
    loop = ('isSequential="true"' if sequential else "") + STANDARD_IO
    _deploy(runtime, _multi_instance("scriptTask", loop, "<bpmn:script>opinion = item * 10</bpmn:script>"))
    case, variables = _case(runtime, _start(runtime, "proc", items=[1, 2, 3]))
    assert case.status == "completed" and variables["opinions"] == [10, 20, 30]


def test_loop_cardinality_fills_its_output_collection(runtime):
    _deploy(runtime, _multi_instance("userTask", CARDINALITY_OUT))
    case_id = _start(runtime, "proc")
    for n in range(3):
        _complete(runtime, _ready(runtime, case_id)[0], {"opinion": f"opinion {n}"})
    case, variables = _case(runtime, case_id)
    assert case.status == "completed"
    assert sorted(variables["opinions"]) == ["opinion 0", "opinion 1", "opinion 2"]


def test_loop_cardinality_script_output(runtime):
    _deploy(runtime, _multi_instance("scriptTask", CARDINALITY_OUT, "<bpmn:script>opinion = 'seen'</bpmn:script>"))
    case, variables = _case(runtime, _start(runtime, "proc"))
    assert case.status == "completed" and variables["opinions"] == ["seen", "seen", "seen"]


def test_camunda_collection_keeps_its_meaning(runtime):
    _deploy(runtime, BPMN.joinpath("approval_items.bpmn").read_bytes(), "approval_items.bpmn")
    case_id = _start(runtime, "approval_items", items=[{"department": "county.fgj"}, {"department": "county.zrzyj"}])
    ready = _ready(runtime, case_id)
    assert sorted(t.department for t in ready) == ["county.fgj", "county.zrzyj"]  # one per item
    for task in ready:
        _complete(runtime, task, {"decision": "approve"}, staff(task.department))
    case, variables = _case(runtime, case_id)
    assert case.status == "completed" and len(variables["items"]) == 2


def test_a_standard_multi_instance_error_names_the_line(runtime):
    data = _multi_instance("userTask", """>
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
        <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>""")
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, data, "mi.bpmn")
    [problem] = error.value.problems
    assert problem.startswith("mi.bpmn:8: userTask T: ") and "exactly one of cardinality" in problem


def test_a_multi_instance_without_data_names_its_line(runtime):
    with pytest.raises(InvalidDefinition) as error:
        _deploy(runtime, _multi_instance("userTask", "/>").replace(b"\n      </bpmn:multiInstanceLoopCharacteristics>", b""),
                "upload.bpmn")
    assert error.value.problems == [
        "upload.bpmn:8: userTask T: A multiinstance task must specify a cardinality or a collection."]


# -- call activities across the files of one deployment ----------------------------------------

FILES = ["main.bpmn", "item.bpmn", "opinion.bpmn"]


def _upload(*names: str) -> list[tuple[bytes, str]]:
    return [((UPLOAD / name).read_bytes(), name) for name in names]


@pytest.mark.parametrize("order", [FILES, FILES[::-1], ["item.bpmn", "main.bpmn", "opinion.bpmn"]],
                         ids=["callers-first", "callees-first", "mixed"])
def test_call_activities_across_files_of_one_deployment_in_any_order(runtime, order):
    result = _deploy_files(runtime, _upload(*order))
    assert result.created and sorted(d.key for d in result.definitions) == [
        "project_item", "project_main", "project_opinion"]
    assert {d.key: d.version for d in result.definitions} == dict.fromkeys(result.new_keys, 1)
    assert result.files == {"project_main": "main.bpmn", "project_item": "item.bpmn",
                            "project_opinion": "opinion.bpmn"}
    case_id = _start(runtime, "project_main")
    [opinion] = _ready(runtime, case_id)  # two call levels down, routed by the called file's lane data
    assert (opinion.element_id, opinion.department) == ("GiveOpinion", "county.zrzyj")
    _complete(runtime, opinion, {"opinion": "no objection"}, staff("county.zrzyj"))
    [decide] = _ready(runtime, case_id)
    assert (decide.element_id, decide.department, decide.form_key) == ("Decide", "county.fgj", "approval_decision")
    _complete(runtime, decide, {"decision": "approve"}, staff("county.fgj"))
    case, _ = _case(runtime, case_id)
    assert case.status == "completed"


def test_a_deployment_is_all_or_nothing(runtime):
    broken = (UPLOAD / "opinion.bpmn").read_bytes().replace(b'targetRef="EndEvent_opinion"', b'targetRef="Nowhere"')
    with pytest.raises(InvalidDefinition) as error:
        _deploy_files(runtime, _upload("main.bpmn", "item.bpmn") + [(broken, "opinion.bpmn")])
    assert any(p.startswith("opinion.bpmn:") and "'Nowhere' does not exist" in p for p in error.value.problems)
    with runtime.unit_of_work(write=False) as uow:
        assert all(latest_definition(uow, key) is None for key in ("project_main", "project_item", "project_opinion"))


def test_a_missing_called_process_is_reported_for_the_file_that_calls_it(runtime):
    with pytest.raises(InvalidDefinition) as error:
        _deploy_files(runtime, _upload("main.bpmn", "item.bpmn"))
    assert any(p.startswith("item.bpmn:") and "project_opinion" in p for p in error.value.problems)


def test_the_same_process_in_two_files_is_refused(runtime):
    copy = (UPLOAD / "opinion.bpmn").read_bytes()
    with pytest.raises(InvalidDefinition) as error:
        _deploy_files(runtime, _upload(*FILES) + [(copy, "copy.bpmn")])
    assert "copy.bpmn:5: process project_opinion: process 'project_opinion' is also defined in opinion.bpmn" \
        in error.value.problems


def test_a_changed_callee_gives_its_callers_a_new_version(runtime):
    _deploy_files(runtime, _upload(*FILES))
    again = _deploy_files(runtime, _upload(*FILES))
    assert not again.created and not again.new_keys
    changed = (UPLOAD / "opinion.bpmn").read_bytes().replace(b"Give an opinion", b"Give a written opinion")
    result = _deploy_files(runtime, _upload("main.bpmn", "item.bpmn") + [(changed, "opinion.bpmn")])
    # the callers pin the called specs, so they get a version with the new opinion process
    assert {d.key: d.version for d in result.definitions} == {
        "project_main": 2, "project_item": 2, "project_opinion": 2}
    with runtime.unit_of_work(write=False) as uow:
        assert [d.version for d in definition_versions(uow, "project_main")] == [1, 2]


def test_deploying_a_caller_alone_uses_the_deployed_callees(runtime):
    _deploy_files(runtime, _upload("opinion.bpmn"))
    _deploy_files(runtime, _upload("item.bpmn"))
    result = _deploy_files(runtime, _upload("main.bpmn"))
    assert [d.key for d in result.definitions] == ["project_main"]
    [task] = _ready(runtime, _start(runtime, "project_main"))
    assert task.element_id == "GiveOpinion"


def test_a_directory_deploys_as_one_deployment(runtime, tmp_path):
    for name in FILES:
        (tmp_path / ("z_" + name if name == "main.bpmn" else name)).write_bytes((UPLOAD / name).read_bytes())
    with runtime.unit_of_work() as uow:
        result = deploy_paths(uow, DESIGNER, [tmp_path])
        uow.commit()
    assert result.created and len(result.definitions) == 3


# -- form keys -----------------------------------------------------------------------------------

FORM_KEYS = """    <bpmn:userTask id="T" camunda:formKey="embedded:app:forms/review.html"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>"""


def test_a_form_key_naming_no_form_is_a_warning_and_data_is_accepted_unvalidated(runtime):
    result = _deploy(runtime, around(FORM_KEYS), "review.bpmn")
    assert result.warnings == [
        "review.bpmn:8: userTask T: formKey 'embedded:app:forms/review.html' names no deployed form; it is "
        "passed to the client as it is and the task's data is accepted unvalidated"]
    case_id = _start(runtime, "proc")
    [task] = _ready(runtime, case_id)
    assert task.form_key == "embedded:app:forms/review.html"
    _complete(runtime, task, {"anything": ["the", "client", "decides"]})
    case, variables = _case(runtime, case_id)
    assert case.status == "completed" and variables["anything"] == ["the", "client", "decides"]


@pytest.mark.parametrize("element", [
    '<bpmn:userTask id="T" flowable:formKey="external-review">',
    '<bpmn:userTask id="T"><bpmn:extensionElements><zeebe:formDefinition formKey="external-review"/>'
    '</bpmn:extensionElements>',
], ids=["flowable", "zeebe"])
def test_form_keys_of_other_modelers_are_read(runtime, element):
    result = _deploy(runtime, around(f"    {element}<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>"
                                     f"</bpmn:userTask>"))
    assert len(result.warnings) == 1 and "userTask T: formKey 'external-review'" in result.warnings[0]
    [task] = _ready(runtime, _start(runtime, "proc"))
    assert task.form_key == "external-review"


def test_a_deployed_form_is_still_validated(runtime):
    from engine.errors import Invalid
    result = _deploy(runtime, around(FORM_KEYS.replace("embedded:app:forms/review.html", "approval_decision")))
    assert result.warnings == []
    [task] = _ready(runtime, _start(runtime, "proc"))
    with pytest.raises(Invalid):
        _complete(runtime, task, {"decision": "maybe"})
