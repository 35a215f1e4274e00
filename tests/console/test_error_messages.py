"""The console says the engine's refusals of work groups, questions, fees, statistics, webhooks,
external tasks, migrations and aliases in Chinese (issue 13/14 messages), with who may do the
thing when the engine says so, and an Invalid's fields listed under the message."""
from __future__ import annotations

import re

import pytest

from api.console import i18n
from tests.console.test_project_pages import CODE, group  # noqa: F401 - the fixture

ALERT = re.compile(r'<p role="alert">(.*?)</p>', re.S)


def _alert(response) -> str:  # type: ignore[no-untyped-def]
    return ALERT.search(response.get_data(as_text=True)).group(1)


def test_work_group_and_question_refusals_read_in_chinese(group, people, browser):  # noqa: F811
    zjj = browser("zjj")
    refused = zjj.post("/console/projects", {"code": "2026-510117-52-01-000017", "name": "另一个项目",
                                             "enterprise_name": "某公司", "contact_name": "李四"})
    assert refused.status_code == 403
    assert _alert(refused) == "无权添加项目：项目由本地区投促局（招商引资部门）加入工作群"

    again = group.post("/console/projects", {"code": CODE, "name": "奥特莱斯郫县项目", "enterprise_name": "某公司",
                                             "contact_name": "王雪", "members": ["county.zjj"]})
    assert again.status_code == 409 and _alert(again) == f"项目 {CODE} 已有工作群，请直接打开该项目"

    assert group.post(f"/console/projects/{CODE}/questions",
                      {"text": "能否容缺受理？", "departments": ["county.zjj"]}).status_code == 303
    page = zjj.get(f"/console/projects/{CODE}").get_data(as_text=True)
    answer_url = re.search(r'action="(/console/questions/\d+/answer)"', page).group(1)
    question_id = answer_url.split("/")[3]

    blank = zjj.post(answer_url, {"answer": "", "preliminary_opinion": ""})
    text = blank.get_data(as_text=True)
    assert blank.status_code == 422 and _alert(blank) == "须同时填写具体答复和初步意见（24 小时答复规则）"
    assert "<strong>具体答复</strong>：此项必填" in text and "<strong>初步意见</strong>：此项必填" in text

    assert zjj.post(answer_url, {"answer": "可以", "preliminary_opinion": "同意容缺"}).status_code == 303
    twice = zjj.post(answer_url, {"answer": "可以", "preliminary_opinion": "同意容缺"})
    assert twice.status_code == 409 and _alert(twice) == f"county.zjj 已答复问题 {question_id}，不能重复答复"

    people.add("zrzyj-2", "staff", "county.zrzyj")
    not_addressed = browser("zrzyj-2").post(answer_url, {"answer": "x", "preliminary_opinion": "y"})
    assert not_addressed.status_code == 403 and _alert(not_addressed) == f"问题 {question_id} 不是向 county.zrzyj 提出的"

    removal = group.post(f"/console/projects/{CODE}/remove", {"reason": "completed"})
    assert removal.status_code == 403 and _alert(removal) == f"无权将项目 {CODE} 移出工作群：由本地区发改局办理"

    missing = group.get("/console/projects/2026-510117-52-01-999999")
    assert missing.status_code == 404 and "2026-510117-52-01-999999" in _alert(missing)
    assert "does not" not in _alert(missing) and i18n.has_chinese(_alert(missing))


def test_statistics_fees_and_webhooks_refusals_read_in_chinese(people, browser, runtime):
    people.add("jy-zjj", "staff", "jingyang.zjj")
    people.add("zjj-2", "staff", "county.zjj")
    other_region = browser("jy-zjj").get("/console/stats/departments?region=pidu")
    assert other_region.status_code == 403
    assert _alert(other_region) == "无权查看地区 pidu 的统计：只能查看本地区及下级地区"
    backwards = browser("root").get("/console/stats?from=2026-05-01&to=2026-04-01")
    assert backwards.status_code == 422 and _alert(backwards) == "开始日期晚于结束日期"

    accounts = browser("zjj-2").get("/console/fees/reconciliation?department=county.fgj")
    assert accounts.status_code == 403 and _alert(accounts) == "无权查看 county.fgj 的对账"
    dead = browser("root").post("/console/admin/webhooks/dead-letters/999/redeliver")
    assert dead.status_code == 404 and _alert(dead) == "投递失败的事件 999 不存在（可能已被删除或地址有误）"


@pytest.mark.parametrize(("message", "said"), [
    ("bill B-2026-000001 is refunded (已退); only a paid bill can be refunded",
     "缴费单 B-2026-000001 当前为“已退”，只有已缴的缴费单可以退费"),
    ("payment gateway: connection refused", "支付渠道出错：connection refused"),
    ("events: unknown event type task.done (known: task.ready, case.completed, a family such as task.*, or *)",
     "没有这种事件类型：task.done"),
    ("url must not carry credentials; the secret signs the body", "地址中不能包含用户名或密码：请求体由密钥签名"),
    ("batch_size must be 1 to 500", "每批案件数应为 1–500"),
    ("external task 7f3a cannot be finished by worker 'w2': it is locked by worker 'w1'",
     "外部任务 7f3a 已由程序 w1 锁定，w2 不能完成它"),
    ("'county.zj' is not a known department (closest known: county.zjj)",
     "没有代码为 county.zj 的部门（最接近的：county.zjj）"),
    ("user 'wangxue' exists with role staff", "用户 wangxue 已存在（角色：审批人员），请换一个用户名"),
    ("the answer of county.zjj to question 4 is coordinated already", "county.zjj 对问题 4 的答复已协调，无需再协调"),
    ("migration 12 does not exist", "案件迁移 12 不存在（可能已被删除或地址有误）"),
])
def test_messages_of_the_newer_areas(message, said):
    assert i18n.detail(message) == said


def test_field_messages_of_the_newer_areas():
    assert i18n.field_message("must be one of active, removed") == "应为以下之一：active, removed"
    assert i18n.field_message("must be one of: a, b") == "请从给出的选项中选择"  # the older wording still wins
    assert i18n.field_message("unknown body 'county.x'") == "没有代码为 county.x 的部门"
