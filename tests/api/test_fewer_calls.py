"""Fewer calls for the agent: a completion answers with the case's open tasks after it, so driving
a whole `one_window_agency` case to 办结 needs no call just to find the next task id. Counted here
for the same case driven two ways: listing tasks after every completion (as clients had to), and
following the completion responses (listing only when a body's completion opened work elsewhere,
which that body may not see)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.domain.forms import uscc_check_char

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CODE = "2026-510117-33-03-000321"
V1 = "/api/v1"


def form_data(task: dict) -> dict:
    """What the person whose inbox holds `task` sends (the pre-fill does the rest)."""
    element = task["element_id"]
    if element == "Register":
        return {"credit_code": "91510117MA6CXY712" + uscc_check_char("91510117MA6CXY712"),
                "enterprise_name": "德阳玉龙钢管有限公司", "legal_representative": "张建国", "contact_name": "李明", "contact_phone": "13800000000",
                "industry": "金属制品业", "investment": 30000,
                "location": {"province": "四川省", "city": "德阳市", "county": "旌阳区"},
                "stages_requested": ["stage1_project_land", "stage2_works_permit", "stage3_construction_permit",
                                     "stage4_completion"]}
    if element == "Agreement":
        return {"signed_date": "2026-03-02"}
    if element == "PreReview":
        return {"materials": [{"name": "营业执照", "checked": True}], "complete": True}
    if element in ("Intake", "ItemAccept"):
        return {"decision": "accept"}
    if element == "ItemReview":
        return {"decision": "approve"}
    if element == "Closure":
        return {"outcome": "completed", "files_handed_over": ["施工许可证"]}
    raise AssertionError(f"unexpected task {element}")


def order(task: dict) -> tuple[str, str]:
    """Both drivers take the open tasks in the same, fixed order."""
    return ((task["item"] or {}).get("code") or "", task["element_id"])


class Driver:
    """One client driving one case, counting its HTTP calls."""

    def __init__(self, client, api_users) -> None:  # type: ignore[no-untyped-def]
        self.client, self.api_users = client, api_users
        self.calls = self.lookups = self.completions = 0

    def who(self, task: dict) -> dict:
        department = task["department"]
        if department is None:
            return self.api_users.header("alice")
        if department not in self.api_users.tokens:
            self.api_users.create(department, "staff", department)
        return self.api_users.header(department)

    def request(self, method: str, path: str, headers: dict, **kw):  # type: ignore[no-untyped-def]
        self.calls += 1
        response = self.client.open(V1 + path, method=method, headers=headers, **kw)
        assert response.status_code in (200, 201), (path, response.get_json())
        return response

    def start(self) -> tuple[str, list[dict]]:
        body = self.request("POST", "/cases", self.api_users.header("alice"), json={
            "process_key": "one_window_agency", "business_key": CODE,
            "project": {"project_name": "德阳玉龙钢管厂（一期）"}}).get_json()
        return body["id"], body["open_tasks"]

    def list_open(self, case_id: str) -> list[dict]:
        self.lookups += 1
        return self.request("GET", f"/tasks?case_id={case_id}&per_page=200",
                            self.api_users.header("alice")).get_json()["items"]

    def complete(self, task: dict):  # type: ignore[no-untyped-def]
        self.completions += 1
        return self.request("POST", f"/tasks/{task['id']}/complete", self.who(task),
                            json={"data": form_data(task)})

    def case_status(self, case_id: str) -> str:
        response = self.client.get(f"{V1}/cases/{case_id}", headers=self.api_users.header("root"))
        return response.get_json()["status"]  # the test's own check, not counted

    def drive_listing(self) -> None:
        """Before: after every completion, list the case's tasks to find the next one."""
        case_id, open_tasks = self.start()
        while open_tasks:
            self.complete(min(open_tasks, key=order))
            open_tasks = self.list_open(case_id)
        assert self.case_status(case_id) == "completed"

    def drive_following(self) -> None:
        """After: the open tasks come back with every completion; a staff member sees their own
        department's, so the known tasks of other departments are kept, and the case's tasks are
        listed only when nothing known is left."""
        case_id, open_tasks = self.start()
        known = {t["id"]: t for t in open_tasks}
        while True:
            if not known:
                known = {t["id"]: t for t in self.list_open(case_id)}
                if not known:
                    break
            task = min(known.values(), key=order)
            response = self.complete(task)
            body = response.get_json()
            assert response.headers["Location"] == f"{V1}/tasks?case_id={case_id}"
            assert body["case"]["id"] == case_id
            if task["department"] is None:  # the agent sees every open task of the case
                known = {}
            else:
                known = {i: t for i, t in known.items() if t["department"] != task["department"]}
            known.pop(task["id"], None)
            known.update({t["id"]: t for t in body["open_tasks"]})
            if body["case"]["status"] == "completed":
                break
        assert self.case_status(case_id) == "completed"


@pytest.fixture
def deployed(client, api_users):
    response = client.post(f"{V1}/process-definitions", data=(PROCESSES / "one_window_agency.bpmn").read_bytes(),
                           headers={**api_users.header("dora"), "Content-Type": "application/xml"})
    assert response.status_code == 201


def test_driving_a_case_to_completion_needs_no_lookups_but_where_work_moved_elsewhere(client, api_users, deployed):
    before = Driver(client, api_users)
    before.drive_listing()
    after = Driver(client, api_users)
    after.drive_following()
    # 27 completions either way: registration, agreement, pre-review, intake, 11 items × 2, closure
    assert before.completions == after.completions == 27
    assert (before.calls, before.lookups) == (55, 27)
    # after: the agent lists the case's tasks only when a body's decision opened work the body
    # does not see (the next stage at other bodies, the closure): 4 times instead of 27
    assert (after.calls, after.lookups) == (32, 4)


def test_every_department_task_names_its_item(client, api_users, deployed):
    driver = Driver(client, api_users)
    case_id, open_tasks = driver.start()
    for _ in range(4):  # registration, agreement, pre-review, intake
        open_tasks = driver.complete(open_tasks[0]).get_json()["open_tasks"]
    names = {t["name"] for t in driver.list_open(case_id)}
    assert "受理审查 · 建设用地规划许可证" in names and "受理审查 · 项目审批/核准/备案" in names
    task = next(t for t in driver.list_open(case_id) if t["item"]["name"] == "建设用地规划许可证")
    review = driver.complete(task).get_json()["open_tasks"]
    assert "审查决定 · 建设工程规划许可证" not in {t["name"] for t in review}  # stage 2 is not open yet
    assert {t["name"] for t in review} == {"审查决定 · 建设用地规划许可证"}  # the zrzyj staff's own
