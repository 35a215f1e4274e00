"""A thin helper so scenario tests read like the articles: everything goes through the REST API."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.services import users
from engine.domain.forms import uscc_check_char

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
API = "/api/v1"
ALL_STAGES = ["stage1_project_land", "stage2_works_permit", "stage3_construction_permit", "stage4_completion"]


def credit_code(first17: str = "91510117MA6CXY712") -> str:
    return first17 + uscc_check_char(first17)


def registration(name: str, code: str, stages: list[str] | None = None) -> dict[str, Any]:
    return {"project_code": code, "project_name": name, "enterprise_name": f"{name}有限公司",
            "credit_code": credit_code(), "legal_representative": "张建国", "contact_name": "李明",
            "contact_phone": "13800000000", "investment": 30000, "land_area": 120,
            "location": {"province": "四川省", "city": "成都市", "county": "郫都区"},
            "industry": "金属制品业", "stages_requested": stages or ALL_STAGES}


def agreement(stages: list[str] | None = None) -> dict[str, Any]:
    return {"stages_agreed": stages or ALL_STAGES, "agent_name": "alice",
            "enterprise_contact": {"name": "李明", "phone": "13800000000"}, "signed_date": "2026-03-02"}


ACCEPT = {"decision": "accept"}
APPROVE = {"decision": "approve"}


def materials(*names: str) -> dict[str, Any]:
    return {"materials": [{"name": n} for n in names]}


class Story:
    """The people of one scenario: agent `alice`, staff of any department on demand, the public."""

    def __init__(self, client, runtime) -> None:  # type: ignore[no-untyped-def]
        self.client, self.runtime = client, runtime
        self.tokens: dict[str, str] = {}
        self.user("root", "admin")
        self.user("dora", "designer")
        self.user("alice", "agent")
        self.case_id: str | None = None
        self.business_key: str | None = None

    # -- people ---------------------------------------------------------------------------------
    def user(self, name: str, role: str, department: str | None = None) -> dict[str, str]:
        if name not in self.tokens:
            with self.runtime.unit_of_work() as uow:
                self.tokens[name] = users.create_user(uow, name, role, department)
                uow.commit()
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def staff(self, department: str) -> dict[str, str]:
        return self.user(f"staff@{department}", "staff", department)

    def call(self, method: str, path: str, who: str = "alice", expect: int | None = 200, **kwargs):  # type: ignore[no-untyped-def]
        headers = self.staff(who) if "." in who else self.user(who, "agent")
        response = self.client.open(API + path, method=method, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.get_json())
        return response.get_json()

    # -- definitions and cases ------------------------------------------------------------------
    def deploy(self, *files: str) -> None:
        for name in files:
            response = self.client.post(API + "/process-definitions", data=(PROCESSES / name).read_bytes(),
                                        headers={**self.user("dora", "designer"), "Content-Type": "application/xml"})
            assert response.status_code in (200, 201), response.get_json()

    def start(self, process_key: str, business_key: str, project: dict | None = None,
              variables: dict | None = None) -> dict[str, Any]:
        case = self.call("POST", "/cases", expect=201, json={
            "process_key": process_key, "business_key": business_key,
            "project": project or {}, "variables": variables or {}})
        self.case_id, self.business_key = case["id"], business_key
        return case

    def case(self) -> dict[str, Any]:
        return self.call("GET", f"/cases/{self.case_id}", who="root")

    def verb(self, verb: str, reason: str, who: str = "alice") -> dict[str, Any]:
        return self.call("POST", f"/cases/{self.case_id}/{verb}", who=who, json={"reason": reason})

    # -- tasks ----------------------------------------------------------------------------------
    def open_tasks(self) -> list[dict[str, Any]]:
        return self.call("GET", f"/tasks?case_id={self.case_id}&per_page=200", who="root")["items"]

    def task(self, element_id: str, item: str | None = None, department: str | None = None) -> dict[str, Any]:
        found = [t for t in self.open_tasks() if t["element_id"] == element_id
                 and (item is None or (t["item"] or {}).get("name") == item)
                 and (department is None or t["department"] == department)]
        assert found, (element_id, item, [(t["element_id"], t["department"], (t["item"] or {}).get("name"))
                                          for t in self.open_tasks()])
        return found[0]

    def complete(self, task: dict[str, Any], data: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        who = task["department"] or "alice"
        return self.call("POST", f"/tasks/{task['id']}/complete", who=who, expect=expect, json={"data": data})

    def do(self, element_id: str, data: dict[str, Any], item: str | None = None, **kw: Any) -> dict[str, Any]:
        """The person whose inbox holds this step completes it."""
        return self.complete(self.task(element_id, item, **kw), data)

    def item_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.open_tasks() if t["item"]]

    def approve_item(self, name: str, department: str | None = None) -> None:
        """A body accepts one approval item and approves it."""
        self.do("ItemAccept", ACCEPT, item=name, department=department)
        self.do("ItemReview", APPROVE, item=name, department=department)

    def approve_all_items(self) -> list[str]:
        done = []
        while self.item_tasks():
            task = self.item_tasks()[-1]
            self.complete(task, ACCEPT if task["element_id"] == "ItemAccept" else APPROVE)
            done.append(task["item"]["name"])
        return done

    def batch(self, facility: str, items: list[dict[str, Any]], expect: int = 201) -> dict[str, Any]:
        """The agent submits a batch of auxiliary items (分期报建)."""
        return self.call("POST", f"/cases/{self.case_id}/batches", expect=expect,
                         json={"facility": facility, "items": items})

    # -- the agent's opening steps ----------------------------------------------------------------
    def open_agency_case(self, name: str, business_key: str, intake: dict[str, Any] | None = None,
                         stages: list[str] | None = None) -> None:
        self.start("one_window_agency", business_key, project={"project_name": name})
        self.do("Register", registration(name, business_key, stages))
        self.do("Agreement", agreement(stages))
        self.do("PreReview", {"materials": [{"name": "营业执照", "checked": True}], "complete": True})
        self.do("Intake", intake or ACCEPT)

    # -- the public -----------------------------------------------------------------------------
    def public(self) -> dict[str, Any]:
        response = self.client.get(f"{API}/public/projects/{self.business_key}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def public_items(self) -> dict[str, str]:
        return {f"{i['name']}@{i['department']['code']}": i["state"] for i in self.public()["items"]
                if i["name"] and "@" not in i["name"]}
