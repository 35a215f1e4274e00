"""The engine's error messages of the newer areas — work groups and questions, fees, statistics,
webhooks and notifications, external tasks, case migrations, department aliases — in Chinese for
the console's error pages and form errors.

Kept apart from `i18n.py` (whose `detail` consults this table first) so that the specific
sentences win over its catch-all "… may not …" → "无权…": a person refused by a work-group rule
should read *who* may do it, not only that they may not. The engine's words stay the source; a
message matching nothing here or in `i18n` is shown as it is.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from api.console.names import CASE_STATUS, ESCALATION_STATUS, ROLE_NAMES

Replacement = str | Callable[[re.Match[str]], str]

# Case and escalation states in the console's words; the rest (questions, deliveries, bills) only
# appear in these messages.
_STATE_NAMES = {**CASE_STATUS, **ESCALATION_STATUS, "answered": "已答复", "closed": "已关闭",
                "dead": "投递失败", "pending": "待投递", "delivered": "已投递", "paid": "已缴", "due": "待缴",
                "refunded": "已退", "waived": "减免", "abandoned": "已放弃"}


def _role(match: re.Match[str]) -> str:
    return f"用户 {match.group(1)} 已存在（角色：{ROLE_NAMES.get(match.group(2), match.group(2))}），请换一个用户名"


def _coordinated(match: re.Match[str]) -> str:
    state = match.group(3)
    said = "已协调" if state == "coordinated already" else _STATE_NAMES.get(state, state)
    return f"{match.group(1)} 对问题 {match.group(2)} 的答复{said}，无需再协调"


def _delivery(match: re.Match[str]) -> str:
    return f"投递 {match.group(1)} 当前为“{_STATE_NAMES.get(match.group(2), match.group(2))}”，不是投递失败的事件"


def _unknown_department(match: re.Match[str]) -> str:
    near = f"（最接近的：{match.group(3)}）" if match.group(3) else ""
    return f"没有代码为 {match.group(1)} 的部门{near}"


_NOUNS = {"project": "项目", "question": "问题", "bill": "缴费单", "fee item": "收费项目", "webhook": "Webhook 订阅",
          "dead letter": "投递失败的事件", "migration": "案件迁移", "external task": "外部任务", "notification": "通知",
          "definition": "流程定义", "user": "用户"}


def _missing(match: re.Match[str]) -> str:
    return f"{_NOUNS[match.group(1)]} {match.group(2)} 不存在（可能已被删除或地址有误）"


DETAILS: list[tuple[re.Pattern[str], Replacement]] = [(re.compile(p), t) for p, t in [
    # --- work groups (项目工作群)
    (r"^.+ may not see project (\S+)$", r"无权查看项目 \1：工作群成员部门、代办员、企业联系人和上级机关可以查看"),
    (r"^project (\S+) was removed from its work group \((.+)\); restore it first$",
     r"项目 \1 已移出工作群（\2），请先由发改局恢复"),
    (r"^.+ may not add projects: .*$", "无权添加项目：项目由本地区投促局（招商引资部门）加入工作群"),
    (r"^invalid project$", "项目信息有误，请按提示修改"),
    (r"^project (\S+) already has a work group$", r"项目 \1 已有工作群，请直接打开该项目"),
    (r"^project (\S+) has no work group$", r"项目 \1 没有工作群（尚未由投促局加入）"),
    (r"^unknown state$", "状态不正确"),
    (r"^unknown level$", "层级应为省级、市级或县级"),
    (r"^(\w+) is too long$", "筛选条件太长"),
    (r"^unknown body$", "没有这个部门"),
    (r"^.+ may not change the members of (\S+): .*$", r"无权调整项目 \1 的工作群成员：由本地区投促局或发改局调整"),
    (r"^invalid member change$", "成员变更有误，请按提示修改"),
    (r"^(.+) still owe answers to open questions of (\S+); they stay until they answer$",
     r"\1 还有项目 \2 的问题未答复，答复后才能移出工作群"),
    (r"^.+ may not remove (\S+): .*$", r"无权将项目 \1 移出工作群：由本地区发改局办理"),
    (r"^.+ may not restore (\S+): .*$", r"无权恢复项目 \1：由本地区发改局办理"),
    (r"^project (\S+) is in its work group already$", r"项目 \1 已在工作群中，无需恢复"),
    (r"^.+ may not start a case of (\S+): .*$", r"无权为项目 \1 立案：由该项目的代办员或本地区投促局办理"),
    (r"^project (\S+) has no agent yet: .*$", r"项目 \1 尚未指定代办员，请先在工作群成员中指定代办员"),
    (r"^the agent of (\S+), (\S+), is no longer active: assign another$", r"项目 \1 的代办员 \2 已停用，请另行指定"),
    (r"^.+ may not create users for (\S+): its agent does$", r"只有项目 \1 的代办员可以为企业联系人开通账号"),
    (r"^user '?([^' ]+)'? exists with role (\w+)$", _role),
    (r"^code (.+)$", r"项目代码有误：\1"),
    (r"^unknown removal reason$", "移出原因应为：办结、停滞或企业放弃"),
    (r"^(\w+) must be a list of body codes$", "部门应以部门代码列出"),
    (r"^unknown bodies: (.+)$", r"没有这些部门：\1"),
    # --- questions (企业诉求，24 小时答复)
    (r"^.+ may not ask questions on (\S+): .*$", r"无权在项目 \1 提问：由企业联系人、代办员或工作群成员部门提问"),
    (r"^invalid question$", "问题有误，请按提示修改"),
    (r"^.+ may not answer questions: .*$", "无权答复：由被提问部门的工作人员答复"),
    (r"^question (\d+) is not addressed to (\S+)$", r"问题 \1 不是向 \2 提出的"),
    (r"^(\S+) answered question (\d+) already$", r"\1 已答复问题 \2，不能重复答复"),
    (r"^question (\d+) is closed \((.+)\)$", r"问题 \1 已关闭（\2）"),
    (r"^which (addressed body|body answers)\?$", "请选择以哪个被提问部门的名义答复"),
    (r"^the answer of (\S+) to question (\d+) is not escalated$", r"\1 对问题 \2 的答复未提交协调，无需协调"),
    (r"^.+ does not coordinate level (\d) of question (\d+)$", r"您不负责问题 \2 的第 \1 级协调"),
    (r"^the answer of (\S+) to question (\d+) is (coordinated already|\w+)$", _coordinated),
    (r"^role \w+ has no question inbox: the bodies answer$", "该角色没有待答复的问题：问题由被提问部门答复"),
    (r"^(answer|preliminary_opinion)( and (answer|preliminary_opinion))? required: .*$",
     "须同时填写具体答复和初步意见（24 小时答复规则）"),
    # --- fees (一窗缴费) not already said in i18n
    (r"^.+ may not waive this bill: .*$", "无权减免：由案件所在服务中心的领导，或收取全部费用的部门领导决定减免"),
    (r"^unknown bill status (.+)$", "缴费单状态应为：待缴、已缴、已退或减免"),
    (r"^.+ may not (.+): only the case's window \(its agent or the service centre's staff\) may$",
     "无权办理：只有案件的窗口（代办员或政务服务中心工作人员）可以办理"),
    (r"^case (\S+) is (\w+); fees are set while it is open$", r"案件 \1 已结束，只能在办理中列明收费"),
    (r"^case (\S+) has no approval item (.+)$", r"案件 \1 没有审批事项 \2"),
    (r"^.+ may not remove a fee of (\S+): each body changes its own fees$", r"无权删除 \1 的收费项目：各部门只能修改本部门的收费"),
    (r"^bill (\S+) is \w+ \((\w+)\); its fees are fixed .*$", r"缴费单 \1 当前为“\2”，收费项目已固定；只有待缴的缴费单可以删除收费"),
    (r"^bill (\S+) is being paid online \(payment (\S+)\); .*$", r"缴费单 \1 正在线上支付（支付流水 \2），确认或放弃该笔支付前不能修改收费"),
    (r"^unknown payment channel (.+)$", "缴费方式应为：窗口缴费（window）或线上支付（online）"),
    (r"^bill (\S+) has no fees to pay$", r"缴费单 \1 没有需要缴纳的费用"),
    (r"^no payment has reference (\S+)$", r"没有支付流水号为 \1 的支付"),
    (r"^payment (\S+) was abandoned .*$", r"支付 \1 已放弃，该笔款项须通过支付渠道退回"),
    (r"^payment (\S+) is (\w+), not paid$", r"支付 \1 的状态为 \2，未支付成功"),
    (r"^payment (\S+) was for (\d+) fen, the gateway confirms (\d+); .*$", r"支付 \1 的金额与支付渠道确认的金额不符，需人工核对"),
    (r"^the notification must be an object$", "支付通知格式不正确"),
    (r"^(\S+) is not a known department$", r"没有代码为 \1 的部门"),
    (r"^.+ may not read fee reconciliations .*$", "无权查看缴费对账：部门、政务服务中心和政府可以查看"),
    (r"^.+ may not read the accounts of (\S+)$", r"无权查看 \1 的对账"),
    (r"^.+ may not set fees of item (.+?): a body sets the fees of its own items \((.+)\)$",
     r"无权为事项 \1 列明收费：由承办该事项的部门（\2）列明"),
    (r"^payment gateway: (.+)$", r"支付渠道出错：\1"),
    (r"^the payment gateway refused (the refund of )?bill (\S+): (.+)$", r"支付渠道拒绝了缴费单 \2 的请求：\3"),
    (r"^.+ may not list bills$", "无权查看缴费单列表"),
    (r"^a fee item must be an object$", "收费项目格式不正确"),
    (r"^the fee item is invalid$", "收费项目有误，请按提示修改"),
    (r"^the reason is too long$", "原因太长（最多 2000 个字符）"),
    (r"^date (\S+) is outside (\S+)\.\.(\S+)$", r"日期 \1 不在 \2 至 \3 之间"),
    (r"^bill (\S+) is (\w+) \((\w+)\); only an unpaid bill can be waived$", r"缴费单 \1 当前为“\3”，只有待缴的缴费单可以减免"),
    (r"^bill (\S+) is (\w+) \((\w+)\); only a paid bill can be refunded$", r"缴费单 \1 当前为“\3”，只有已缴的缴费单可以退费"),
    (r"^the payment notification is incomplete$", "支付通知不完整"),
    (r"^the payment notification has fields of the wrong type$", "支付通知的字段类型不正确"),
    (r"^the payment notification's signature does not match the gateway's$", "支付通知的签名与支付渠道不符，已拒绝"),
    # --- statistics (统计考核)
    (r"^role \w+ may not see statistics$", "该角色无权查看统计"),
    (r"^.+ may not see the statistics of region (\S+)$", r"无权查看地区 \1 的统计：只能查看本地区及下级地区"),
    (r"^from is after to$", "开始日期晚于结束日期"),
    (r"^from_year is after to_year$", "起始年份晚于结束年份"),
    # --- webhooks and notifications
    (r"^url must be an http or https URL with a host$", "地址应为带主机名的 http 或 https 地址"),
    (r"^url must not carry credentials; .*$", "地址中不能包含用户名或密码：请求体由密钥签名"),
    (r"^url is longer than 2000 characters$", "地址太长（最多 2000 个字符）"),
    (r"^events: name at least one event type \(or \*\)$", "请至少选择一种事件类型（或 *）"),
    (r"^events: unknown event type ([^(]+) \(known: .*$", r"没有这种事件类型：\1"),
    (r"^secret must be 16 to 200 characters$", "密钥应为 16–200 个字符"),
    (r"^delivery (\d+) is (\w+), not dead$", _delivery),
    # --- case migrations (案件迁移)
    (r"^from and to are the same version$", "迁移前后是同一个版本"),
    (r"^batch_size must be 1 to (\d+)$", r"每批案件数应为 1–\1"),
    (r"^--map (.+): write FROM_ELEMENT=TO_ELEMENT$", r"环节对应 \1 的写法应为：原环节=新环节"),
    (r"^not open cases of (\S+) v(\d+): (.+)$", r"以下案件不是 \1 第 \2 版中办理中的案件：\3"),
    # --- external tasks (外部任务)
    (r"^external task (\S+) is not waiting in case (\S+)$", r"外部任务 \1 在案件 \2 中已不在等待"),
    (r"^external task (\S+) is not locked by worker '(.+)': .*$", r"外部任务 \1 未被任何程序锁定，请先领取并锁定"),
    (r"^external task (\S+) cannot be finished by worker '(.+)': it is locked by worker '(.+)'$",
     r"外部任务 \1 已由程序 \3 锁定，\2 不能完成它"),
    (r"^the lock of external task (\S+) expired; .*$", r"外部任务 \1 的锁定已过期，请重新领取"),
    (r"^topics must name at least one topic$", "请至少指定一个主题"),
    (r"^at most (\d+) topics per fetch$", r"每次最多领取 \1 个主题"),
    (r"^the fetch has invalid topics$", "领取请求中的主题有误"),
    (r"^maxTasks must be a whole number from 0 to (\d+)$", r"maxTasks 应为 0–\1 的整数"),
    (r"^(\w+) must be milliseconds from 1 to (\d+)$", r"\1 应为 1–\2 毫秒"),
    (r"^the failure has invalid fields$", "失败报告的字段有误"),
    (r"^errorCode is required: .*$", "须填写错误代码（errorCode），边界事件按它捕获"),
    # --- department aliases (部门别名)
    (r"^alias (\S+): (.+)$", r"别名 \1 有误：\2"),
    (r"^(\S+) is already a department code; an alias cannot hide it$", r"\1 已是部门代码，别名不能与之同名"),
    (r"^(\S+) is itself an alias \(of (\S+)\); name the department$", r"\1 本身是别名（指向 \2），请填写部门代码"),
    (r"^'(.+)' is not a known department( \(closest known: (.+)\))?$", _unknown_department),
    (r"^no alias '(.+?)'(; aliases: .*)?$", r"没有别名 \1"),
    (r"^open cases of (.+) route tasks through the alias (\S+); .*$",
     r"\1 的办理中案件仍通过别名 \2 分派任务：请等这些案件办结，或迁移到直接写部门代码的版本"),
    # --- things that do not exist
    (r"^(project|question|bill|fee item|webhook|dead letter|migration|external task|notification|definition) "
     r"(\S+) does not exist$", _missing),
]]

# Field messages of the same areas (the `errors` of an Invalid), and the fields' names.
FIELD_MESSAGES: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in [
    (r"^must be one of ([^:].*)$", r"应为以下之一：\1"),
    (r"^required, a non-empty text$", "此项必填"),
    (r"^required: .*$", "此项必填"),
    (r"^unknown body '(.+)'$", r"没有代码为 \1 的部门"),
    (r"^must be a list of body codes$", "应以部门代码列出"),
    (r"^one of the addressed bodies: (.+)$", r"应为被提问的部门之一：\1"),
    (r"^one of (.+)$", r"应为以下之一：\1"),
    (r"^not an approval item of this case \(its items: (.+)\)$", r"不是本案件的审批事项（本案件的事项：\1）"),
    (r"^unknown department$", "没有这个部门"),
    (r"^at most (\d+) characters$", r"最多 \1 个字符"),
    (r"^must be between (\S+) and (\S+)$", r"应在 \1 至 \2 之间"),
    (r"^must differ from from_version$", "应与原版本不同"),
    (r"^1 to (\d+)$", r"应为 1–\1"),
    (r"^already a department code$", "已是部门代码"),
    (r"^an alias, not a department$", "这是别名，不是部门"),
    (r"^used by (.+)$", r"仍被 \1 使用"),
]]
FIELD_LABELS = {"code": "项目代码", "name": "名称", "members": "成员部门", "add": "加入的部门", "remove": "移出的部门",
                "agent": "代办员", "reason": "原因", "text": "问题", "departments": "被提问部门",
                "department": "部门", "answer": "具体答复", "preliminary_opinion": "初步意见", "state": "状态",
                "status": "状态", "item": "审批事项", "amount_fen": "金额", "channel": "缴费方式", "date": "日期",
                "url": "地址", "events": "事件类型", "secret": "密钥", "batch_size": "每批案件数",
                "mapping": "环节对应", "to_version": "目标版本", "case_ids": "案件", "region": "地区",
                "level": "层级", "enterprise": "企业", "contact": "企业联系人", "password": "密码", "role": "角色",
                "_schema": "内容"}


def detail(message: str) -> str | None:
    """The message in Chinese, or None when it is not one of these areas'."""
    for pattern, text in DETAILS:
        if pattern.match(message):
            return pattern.sub(text, message, count=1)
    return None


def field_message(message: str) -> str | None:
    for pattern, text in FIELD_MESSAGES:
        if pattern.match(message):
            return pattern.sub(text, message, count=1)
    return None
