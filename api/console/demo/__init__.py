"""`onewindow demo load`: a database to look at — people of every role (passwords printed once)
and cases in every state, made by the engine's own verbs with a clock that starts 40 days ago
and is walked to now with the timer worker, so deadlines, yellow and red warnings and all three
levels of escalation are real."""
from __future__ import annotations

import secrets
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from api.console.demo import work_groups
from api.runtime import runtime
from engine.adapters.migrate import upgrade
from engine.adapters.models import Task
from engine.domain.access import SYSTEM, Actor
from engine.domain.forms import uscc_check_char
from engine.domain.states import TaskStatus
from engine.errors import DomainError
from engine.runtime import Runtime
from engine.services import cases
from engine.services import definitions
from engine.services import users
from engine.services.definitions import deploy_directory
from engine.services.timers import Worker
from engine.services.workbench import register_project

BEIJING = timezone(timedelta(hours=8))
DEMO_BPMN = Path(__file__).resolve().parent / "land_efficiency.bpmn"
AGENT = "li.daiban"
ALL_STAGES = ["stage1_project_land", "stage2_works_permit", "stage3_construction_permit", "stage4_completion"]
PEOPLE = [  # name, role, department, who they are
    ("demo.admin", "admin", None, "系统管理员"),
    ("feng.sheji", "designer", None, "流程设计员"),
    (AGENT, "agent", "county.zwfw", "代办员（郫都区政务服务中心）"),
    ("he.daiban", "agent", "county.zwfw", "代办员（郫都区政务服务中心）"),
    ("zhou.zwfw", "staff", "county.zwfw", "郫都区政务服务中心 窗口"),
    ("wang.fgj", "staff", "county.fgj", "郫都区发改局 审批人员"),
    ("zhao.zrzyj", "staff", "county.zrzyj", "郫都区规划和自然资源局 审批人员"),
    ("chen.sthjj", "staff", "county.sthjj", "生态环境局 审批人员"),
    ("sun.zjj", "staff", "county.zjj", "住建局 审批人员"),
    ("liu.shizrzyj", "staff", "city.zrzyj", "成都市规划和自然资源局 审批人员"),
    ("qian.fgj", "leader", "county.fgj", "郫都区发改局 领导"),
    ("wu.zwfw", "leader", "county.zwfw", "郫都区政务服务中心 窗口协调（一级）"),
    ("zheng.zf", "government", "county.zf", "郫都区人民政府 协调（三级）"),
    work_groups.PROMOTER,
    work_groups.ENTERPRISE,
]


class DemoClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _credit_code(serial: int) -> str:
    first17 = f"91510117MA6C{serial:04d}X"[:17]
    first17 = first17.replace("I", "J").replace("O", "P").replace("S", "T").replace("V", "W").replace("Z", "Y")
    return first17 + uscc_check_char(first17)


def registration(name: str, code: str, serial: int, stages: list[str] | None = None,
                 investment: float = 30000) -> dict[str, Any]:
    return {"project_code": code, "project_name": name, "enterprise_name": f"{name.split('（')[0]}有限公司",
            "credit_code": _credit_code(serial), "legal_representative": "张建国", "contact_name": "李明",
            "contact_phone": "13800000000", "investment": investment, "land_area": 120, "land_area_unit": "mu",
            "location": {"province": "四川省", "city": "成都市", "county": "郫都区", "address": "德源街道"},
            "industry": "制造业", "stages_requested": stages or ALL_STAGES}


def agreement(stages: list[str] | None = None) -> dict[str, Any]:
    return {"stages_agreed": stages or ALL_STAGES, "agent_name": AGENT,  # the actor field: who signs it
            "enterprise_contact": {"name": "李明", "phone": "13800000000"}, "signed_date": "2026-03-02"}


STANDARD = {
    "Agreement": None,  # filled per case
    "PreReview": {"materials": [{"name": "营业执照", "checked": True}, {"name": "项目备案证明", "checked": True}],
                  "complete": True},
    "Intake": {"decision": "accept"},
    "ItemAccept": {"decision": "accept"},
    "ItemReview": {"decision": "approve", "opinion": "符合要求，准予许可"},
    "Closure": {"outcome": "completed", "files_handed_over": ["全部批文原件"], "closed_date": "2026-03-02"},
}


class Demo:
    def __init__(self, rt: Runtime, clock: DemoClock) -> None:
        self.rt, self.clock = rt, clock
        self.actors = {name: Actor(name, role, dept) for name, role, dept, _ in PEOPLE}
        self.staff_of = {dept: self.actors[name] for name, role, dept, _ in PEOPLE if role == "staff"}

    def open(self, name: str, code: str, serial: int, stages: list[str] | None = None) -> str:
        started = register_project(self.rt.unit_of_work(), self.actors[AGENT], "one_window_agency",
                                   registration(name, code, serial, stages))
        return started.case.id

    def ready(self, case_id: str) -> list[Task]:
        with self.rt.unit_of_work(write=False) as uow:
            return [t for t in cases.case_tasks(uow, case_id) if t.state == TaskStatus.READY]

    def do(self, task: Task, data: dict[str, Any]) -> None:
        who = self.staff_of.get(task.department) if task.department else self.actors[AGENT]
        if who is None:
            who = SYSTEM
        cases.complete_task(self.rt.unit_of_work(), who, task.id, data)

    def step(self, case_id: str, element: str, data: dict[str, Any], item: str | None = None) -> bool:
        for task in self.ready(case_id):
            if task.element_id == element and (item is None or (task.item or {}).get("name") == item):
                self.do(task, data)
                return True
        return False

    def through_intake(self, case_id: str, stages: list[str] | None = None) -> None:
        self.step(case_id, "Agreement", agreement(stages))
        self.step(case_id, "PreReview", STANDARD["PreReview"])
        self.step(case_id, "Intake", STANDARD["Intake"])

    def drive(self, case_id: str, limit: int = 200, hours: float = 3) -> None:
        """Complete every ready task with a plain approval until the case ends, `hours` apart."""
        for _ in range(limit):
            ready = [t for t in self.ready(case_id) if t.element_id in STANDARD]
            if not ready:
                return
            task = ready[0]
            self.do(task, STANDARD[task.element_id] or agreement())
            self.advance(hours=hours)

    def advance(self, **delta: float) -> None:
        self.clock.now += timedelta(**delta)

    def walk_to(self, end: datetime, step: timedelta = timedelta(hours=6)) -> None:
        """Move the clock to `end`, letting the timer worker fire what falls due on the way."""
        worker = Worker(self.rt, name="demo", poll_seconds=0)
        while self.clock.now < end:
            self.clock.now = min(end, self.clock.now + step)
            while worker.run_once():
                pass


def load(rt_settings: Any, out: Any = click.echo) -> None:
    now = datetime.now(timezone.utc)
    start = (now - timedelta(days=40)).astimezone(BEIJING).replace(hour=9, minute=30, second=0, microsecond=0)
    while start.weekday() >= 5:
        start += timedelta(days=1)
    clock = DemoClock(start.astimezone(timezone.utc))
    rt = Runtime(rt_settings, clock=clock)
    try:
        with rt.unit_of_work(write=False) as uow:
            if uow.users.by_name(AGENT) is not None:
                raise click.ClickException(f"the demo is loaded already (user {AGENT} exists)")
        deploy_directory(rt.unit_of_work, SYSTEM, rt.settings.processes_dir)
        passwords = {name: secrets.token_urlsafe(9) for name, _, _, _ in PEOPLE}
        users.create_users(rt.unit_of_work(), [(name, role, department, passwords[name])
                                               for name, role, department, _ in PEOPLE])
        demo = Demo(rt, clock)
        made: list[tuple[str, str]] = []
        # 已超期督办: accepted 40 days ago, nobody acted since — red, escalated to all three levels.
        late = demo.open("郫都区智能装备产业园（一期）", "2026-510117-34-01-000101", 101)
        demo.through_intake(late)
        made.append((late, "超期未办：红牌，三级督办"))
        demo.advance(days=6)
        # 办结: every stage approved, files handed over.
        done = demo.open("成都绿色建材厂房改建", "2026-510117-30-03-000102", 102, ["stage1_project_land"])
        demo.through_intake(done, ["stage1_project_land"])
        demo.drive(done)
        made.append((done, "已办结"))
        # 终止 and 中止.
        stopped = demo.open("郫都区冷链物流中心", "2026-510117-59-01-000103", 103)
        cases.cancel_case(rt.unit_of_work(), demo.actors[AGENT], stopped, "企业调整投资计划，申请终止")
        made.append((stopped, "已终止"))
        paused = demo.open("德源镇食品加工园", "2026-510117-14-01-000104", 104)
        demo.through_intake(paused)
        cases.suspend_case(rt.unit_of_work(), demo.actors[AGENT], paused, "企业补充用地权属证明期间中止")
        made.append((paused, "已中止"))
        t0 = start.astimezone(timezone.utc)
        demo.walk_to(t0 + timedelta(days=10))
        # Overdue for a day or two: red, escalated to the window (level 1) and the body's leaders (level 2).
        late2 = demo.open("郫都区新能源电池配套项目", "2026-510117-38-01-000109", 109)
        demo.through_intake(late2, ["stage1_project_land"])
        made.append((late2, "刚超期：红牌，一、二级督办"))
        # Two more closed projects, at a slower pace, so the statistics have a spread to show.
        for serial, name, pace in [(111, "郫都区农产品冷链加工项目", 20), (112, "郫都区智慧物流分拨中心", 9)]:
            closed = demo.open(name, f"2026-510117-59-01-000{serial}", serial, ["stage1_project_land"])
            demo.through_intake(closed, ["stage1_project_land"])
            demo.drive(closed, hours=pace)
            made.append((closed, "已办结"))
        demo.walk_to(t0 + timedelta(days=13))
        # Close to its deadline: yellow.
        near = demo.open("郫都区川菜调味品产业园", "2026-510117-14-02-000110", 110)
        demo.through_intake(near, ["stage1_project_land"])
        made.append((near, "临近期限：黄牌"))
        demo.walk_to(t0 + timedelta(days=18))
        # 并联审批中: items at three bodies; one approved, one accepted, one asked for 补正.
        busy = demo.open("郫都区新材料研发中心", "2026-510117-73-01-000105", 105)
        demo.through_intake(busy)
        demo.step(busy, "ItemAccept", STANDARD["ItemAccept"], item="项目审批/核准/备案")
        demo.step(busy, "ItemReview", STANDARD["ItemReview"], item="项目审批/核准/备案")
        demo.step(busy, "ItemAccept", STANDARD["ItemAccept"], item="建设用地规划许可证")
        demo.step(busy, "ItemReview", {"decision": "correction", "opinion": "规划总平面图比例不符，请补正"},
                  item="建设用地规划许可证")
        demo.step(busy, "ItemAccept", STANDARD["ItemAccept"], item="用地预审与选址意见书")
        made.append((busy, "并联审批中：已批、审查中、补正中"))
        # Its work group: the enterprise asks; the housing bureau answers within the 24 hours. The
        # planning bureau sets a fee the window collects; the land office's fee stays due.
        busy_code = "2026-510117-73-01-000105"
        work_groups.add_work_group(demo, busy_code, "郫都区新材料研发中心", "郫都区新材料研发中心有限公司",
                                   _credit_code(105), AGENT)
        asked = work_groups.ask(demo, busy_code, "施工许可能否与施工图审查同步推进？需要提前准备哪些材料？",
                                ["county.zjj"])
        demo.advance(hours=4)
        work_groups.answer(demo, asked, demo.actors["sun.zjj"], "可以同步推进：施工图审查合格书出具当日即可申请施工许可。",
                           "同意并联办理，请提前准备施工合同和监理合同。")
        bill = work_groups.set_fee(demo, busy, "county.zrzyj", "城市基础设施配套费",
                                   "《四川省城市基础设施配套费征收管理办法》", 1_500_000)
        demo.advance(hours=2)
        work_groups.pay_at_window(demo, bill, AGENT)
        work_groups.set_fee(demo, late2, "county.zrzyj", "土地复垦费", "《土地复垦条例》第十八条", 860_000)
        # 出错: an auxiliary item names a body that does not exist.
        # 出错: a step fails on bad data (a land area of 0 in a demonstration process) and waits for an operator.
        definitions.deploy_uploads(rt.unit_of_work(), SYSTEM, [(DEMO_BPMN.read_bytes(), DEMO_BPMN.name)])
        broken = cases.start_case(rt.unit_of_work(), demo.actors[AGENT], "demo_land_efficiency",
                                  "2026-510117-59-02-000106",
                                  project={"project_name": "郫都区配套仓储项目", "investment": 8000,
                                           "land_area": 0}).case.id
        made.append((broken, "出错：用地面积为 0，无法计算亩均投资（演示流程）"))
        demo.walk_to(now - timedelta(days=3))
        # Recent cases: waiting for the agreement, and at pre-review.
        fresh = demo.open("郫都区数字文创园", "2026-510117-87-01-000107", 107)
        made.append((fresh, "刚登记：待签订代办协议"))
        review = demo.open("郫都区医疗器械产业化项目", "2026-510117-35-01-000108", 108)
        demo.step(review, "Agreement", agreement())
        made.append((review, "材料预审中（窗口）"))
        demo.walk_to(now - timedelta(hours=30))
        # A question the environment bureau leaves unanswered: red after 24 hours, then the window coordinates.
        work_groups.ask(demo, busy_code, "环评审批能否采用告知承诺制？厂区扩建是否需要重新报批？", ["county.sthjj"])
        demo.walk_to(now)
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    finally:
        rt.close()
    out("Demo loaded. People (passwords are shown only now):")
    for name, role, department, words in PEOPLE:
        out(f"  {name:<14} {passwords[name]:<14} {role:<10} {department or '-':<12} {words}")
    out("Cases:")
    with Runtime(rt_settings).unit_of_work(write=False) as uow:
        for case_id, words in made:
            case = uow.cases.get(case_id)
            out(f"  {case.business_key}  {case.status:<9} {case.name}  — {words}")
    out("Sign in at /console/ (e.g. `make run`, then http://127.0.0.1:5000/console/).")


@click.group("demo", help="Demonstration data for a first look at the console.")
def demo_group() -> None:
    pass


@demo_group.command("load", help="Add people of every role (passwords printed once) and cases in every state.")
@with_appcontext
def demo_load() -> None:
    rt = runtime()
    upgrade(rt.settings.database_url)
    load(rt.settings)
    sys.stdout.flush()
