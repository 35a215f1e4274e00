"""Chinese words for the console: roles, states, warning levels, and the engine's (English)
error messages translated for the people who read them. The engine stays the one source of the
rules; this only says the same thing in zh-CN. An unknown message is shown as it is."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from api.console import i18n_errors
from api.console.names import CASE_STATUS, ESCALATION_STATUS, ROLE_NAMES  # noqa: F401 (pages read i18n.ROLE_NAMES)
from engine.services.progress import STAGE_NAMES

BEIJING = timezone(timedelta(hours=8))

TASK_STATE = {"ready": "待办", "completed": "已完成", "cancelled": "已取消", "error": "出错"}
# Colour is never the only signal: every level has its words (and a symbol in the page).
SLA_NAMES = {"normal": "正常", "yellow": "临近期限（黄牌）", "red": "已超期（红牌）", "paused": "计时暂停",
             None: "无时限"}
# The warning tags of the inbox, built once (a page shows 50 of them).
SLA_TAGS = {
    "red": Markup('<span class="tag red">⚠ 已超期（红牌）</span>'),
    "yellow": Markup('<span class="tag yellow">▲ 临近期限（黄牌）</span>'),
    "paused": Markup('<span class="tag paused">⏸ 计时暂停</span>'),
    "normal": Markup('<span class="tag normal">正常</span>'),
    None: Markup('<span class="muted">无时限</span>'),
}
SLA_SHORT = {"normal": "正常", "yellow": "黄牌", "red": "红牌", "paused": "暂停", None: "—"}
LEVEL_NAMES = {1: "一级（窗口协调）", 2: "二级（部门领导）", 3: "三级（政府协调）"}
ELEMENT_STATE = {"completed": "已完成", "active": "办理中", "waiting": "等待中", "error": "出错",
                 "not_reached": "未到达"}
EVENT_NAMES = {
    "started": "立案", "task_created": "任务生成", "task_completed": "任务办结", "task_claimed": "认领任务",
    "task_unclaimed": "退回任务", "task_cancelled": "任务取消", "suspended": "中止", "resumed": "续办",
    "cancelled": "终止", "completed": "办结", "message_received": "收到消息", "error": "出错",
    "escalated": "督办升级", "escalation_resolved": "督办已协调", "clock_started": "开始计时",
    "clock_stopped": "停止计时", "clock_resumed": "恢复计时", "clock_restarted": "重新计时",
    "sla_changed": "预警变化", "deemed_consent": "视为同意", "timer_fired": "定时器触发",
    "sla_yellow": "转为黄牌（临近期限）", "sla_red": "转为红牌（已超期）", "sla_normal": "预警解除",
    "sla_paused": "计时暂停",
}
FORMAT_HINTS = {
    "project-code": "投资项目代码，格式 YYYY-DDDDDD-II-TT-NNNNNN（年份-行政区划-行业-类型-流水号）",
    "uscc": "18 位统一社会信用代码（GB 32100-2015），系统会核对校验位",
    "phone": "手机号（如 13800138000）或固定电话（如 028-12345678）",
}
FIELD_HINTS = {"investment": "单位：万元", "land_area": "单位见“面积单位”；不新增用地填 0", "industry": "如：制造业",
               "time_limit": "如：10 个工作日、15 working days、30 days", "department": "部门代码，如 county.zjj",
               "attachments": "已存档文件的编号或链接", "attachment": "已存档文件的编号或链接",
               "extension_days": "工作日，1–60"}


def has_chinese(text: object) -> bool:
    """Written in Chinese: more Chinese characters than Latin letters (an English sentence
    quoting 行政许可法 is English)."""
    if not isinstance(text, str):
        return False
    chinese = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    return chinese > 0 and chinese * 2 >= latin


def hint(key: str, schema: dict) -> str | None:
    """A field's help text in Chinese: its own description when written in Chinese, else what
    the console knows of its format or name (the shipped forms describe fields in English)."""
    description = schema.get("description")
    if has_chinese(description):
        return description
    return FORMAT_HINTS.get(schema.get("format", "")) or FIELD_HINTS.get(key)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(working days?|days?|working hours?|hours?|weeks?)\s*$", re.I)
_DURATION_WORDS = {"working day": "个工作日", "day": "日（自然日）", "working hour": "个工作小时", "hour": "小时",
                   "week": "周"}


def duration(text: str | None) -> str:
    """`20 working days` → `20 个工作日`; anything else as it is."""
    if not text:
        return "—"
    match = _DURATION.match(text)
    if not match:
        return text
    unit = match.group(2).lower().rstrip("s")
    return f"{match.group(1)} {_DURATION_WORDS.get(unit, unit)}"


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?")


def _local(match: re.Match) -> str:
    try:
        return beijing(datetime.fromisoformat(match.group(0).replace("Z", "+00:00")))
    except ValueError:
        return match.group(0)


def reason(text: str | None) -> str:
    """An escalation's reason (the engine's words) in Chinese, instants in Beijing time."""
    if not text:
        return "—"
    if match := re.match(r"^overdue since (\S+)$", text):
        return "自 " + _ISO.sub(_local, match.group(1)) + " 起超期"
    if match := re.match(r"^level (\d) unresolved since (\S+)$", text):
        return f"{LEVEL_NAMES.get(int(match.group(1)), match.group(1))}自 " + _ISO.sub(_local, match.group(2)) + " 起未协调解决"
    return _ISO.sub(_local, text)


def stage_name(stage: str | None) -> str:
    return STAGE_NAMES.get(stage or "", stage or "—")


def beijing(moment: datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(BEIJING)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def age(moment: datetime | None, now: datetime) -> str:
    """How long ago, in words: 3 天 5 小时, 40 分钟."""
    if moment is None:
        return "—"
    seconds = max(0, int((now - moment).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {rest // 60} 分钟"
    return f"{rest // 60} 分钟"


_TYPE_WORDS = {"text": "文本", "a number": "数字", "a whole number": "整数", "true or false": "是或否",
               "a list": "列表", "an object": "对象", "null": "空"}
_FIELD_MESSAGES: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in [
    (r"^required$", "此项必填"),
    (r"^unknown field$", "表单中没有这一项"),
    (r"^must be 18 characters$", "应为 18 位"),
    (r"^has characters outside the GB 32100-2015 set.*$",
     "含有不允许的字符（大写字母和数字，不含 I、O、S、V、Z；第 3–8 位为数字）"),
    (r"^check character is wrong \(expected (.)\)$", r"校验位错误（按 GB 32100-2015 应为 \1），请核对代码"),
    (r"^must look like YYYY-DDDDDD-II-TT-NNNNNN$", "格式应为 YYYY-DDDDDD-II-TT-NNNNNN（年份-行政区划-行业-类型-流水号）"),
    (r"^year must be between 2000 and 2099$", "年份应在 2000–2099 之间"),
    (r"^administrative division code is not a Chinese province-level code$", "行政区划代码不是有效的省级代码"),
    (r"^serial number must not be 000000$", "流水号不能为 000000"),
    (r"^must be a date YYYY-MM-DD$", "应为日期（年-月-日）"),
    (r"^must be a mainland mobile.*$", "应为手机号（如 13800138000）或固定电话（如 028-12345678）"),
    (r"^must be one of: .*$", "请从给出的选项中选择"),
    (r"^must be '.*'$", "取值不正确"),
    (r"^must not be blank$", "不能只填空白"),
    (r"^has the wrong format$", "格式不正确"),
    (r"^must not be empty$", "不能为空"),
    (r"^must have at least (\d+) character\(s\)$", r"至少 \1 个字符"),
    (r"^must have at most (\d+) characters$", r"最多 \1 个字符"),
    (r"^must have at least (\d+) item\(s\)$", r"至少填写 \1 项"),
    (r"^must have at most (\d+) items$", r"最多 \1 项"),
    (r"^must be >= (.+)$", r"不能小于 \1"),
    (r"^must be <= (.+)$", r"不能大于 \1"),
    (r"^must be > (.+)$", r"必须大于 \1"),
    (r"^must be < (.+)$", r"必须小于 \1"),
    (r"^items must not repeat$", "各项不能重复"),
    (r"^must be a multiple of (.+)$", r"必须是 \1 的倍数"),
    (r"^does not match any allowed shape$", "不符合要求的格式"),
    (r"^must not start or end with spaces$", "首尾不能是空格"),
    (r"^must not be the user name$", "不能与用户名相同"),
    (r"^required, at most 120 characters$", "必填，最多 120 个字符"),
    (r"^must not contain spaces, slashes or control characters$", "不能包含空格、斜杠或控制字符"),
    (r"^required for role (\w+)$", r"该角色必须属于一个部门"),
    (r"^unknown department '(.+)'$", r"没有代码为 \1 的部门"),
]]
_PASSWORD_SHORT = re.compile(r"^must have at least (\d+) characters$")


def field_message(message: str) -> str:
    """One validation message of a form field, in Chinese."""
    if (said := i18n_errors.field_message(message)) is not None:
        return said
    if match := _PASSWORD_SHORT.match(message):
        return f"至少 {match.group(1)} 个字符"
    if message.startswith("must be "):
        words = [w.strip() for w in message[8:].split(" or ")]
        if all(w in _TYPE_WORDS for w in words):
            return "应为" + "或".join(_TYPE_WORDS[w] for w in words)
    for pattern, text in _FIELD_MESSAGES:
        if pattern.match(message):
            return pattern.sub(text, message)
    return message


_DETAILS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in [
    (r"^task \S+ is already (completed|cancelled|error)$", "该任务已不在待办状态（已完成或已取消），请刷新页面"),
    (r"^task \S+ is claimed by (.+)$", r"该任务已由 \1 认领"),
    (r"^case \S+ is suspended; resume it first$", "案件已中止，请先续办"),
    (r"^case \S+ is (completed|cancelled)$", "案件已结束"),
    (r"^case \S+ is (\w+), not running$", "案件不在办理中"),
    (r"^case \S+ is (\w+), not suspended$", "案件未中止"),
    (r"^case \S+ is already (\w+)$", "案件已结束"),
    (r"^case \S+ is not waiting for message '(.+?)'.*$", r"案件当前不等待消息“\1”"),
    (r"^escalation \d+ is (\w+)$", "该督办已处理"),
    (r"^item '.+?' requires its fee paid before its decision, and no fee is set yet.*$",
     "本事项须先缴费后才能作出决定，但部门尚未列明收费项目"),
    (r"^item '.+?' requires its fee paid before its decision: bill (.+) is not paid$",
     r"本事项须先缴费后才能作出决定：缴费单 \1 尚未缴清"),
    (r"^bill (\S+) is already paid \(已缴\); refund it instead of waiving it$", r"缴费单 \1 已缴，不能减免；如需退还请办理退费"),
    (r"^bill (\S+) is already paid .*$", r"缴费单 \1 已缴，不会重复收费"),
    (r"^bill (\S+) is unpaid \(待缴\); only a paid bill can be refunded$", r"缴费单 \1 尚未缴费，不能退费"),
    (r"^bill (\S+) was waived .*$", r"缴费单 \1 已减免，无需缴费"),
    (r"^bill (\S+) was refunded .*$", r"缴费单 \1 已退费，不能再缴；如需收费请部门重新列明"),
    (r"^bill (\S+) is \w+ \((\w+)\); only (a paid|an unpaid) bill .*$", r"缴费单 \1 当前为“\2”，不能进行此操作"),
    (r"^a reason is required$", "请填写原因"),
    (r"^.* may not .*$", "无权进行此操作或查看此内容"),
    (r"^role \w+ may not .*$", "当前角色无权进行此操作"),
    (r"^(case|task|escalation) \S+ does not exist$", "未找到（可能已被删除或地址有误）"),
    (r"^process definition .* is not deployed$", "该流程未部署"),
    (r"^form \w+ is invalid$", "表单有需要修改的地方"),
    (r"^invalid user$", "用户信息有误"),
    (r"^invalid password$", "密码不符合要求"),
    (r"^user '(.+)' already exists$", r"用户 \1 已存在"),
    (r"^user '(.+)' does not exist$", r"用户 \1 不存在"),
]]


def detail(message: str) -> str:
    """An engine error's detail (English) for a person reading the console."""
    if (said := i18n_errors.detail(message)) is not None:
        return said
    for pattern, text in _DETAILS:
        if pattern.match(message):
            return pattern.sub(text, message)
    return message

FIELD_LABELS = i18n_errors.FIELD_LABELS


def field_errors(errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """An Invalid's per-field messages for an error page: (the field's name in Chinese, message)."""
    return [(i18n_errors.FIELD_LABELS.get(field, field), field_message(str(message)))
            for field, messages in errors.items()
            for message in (messages if isinstance(messages, list) else [messages])][:20]
