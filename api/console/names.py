"""The Chinese names of roles, case states and escalation states, shared by the console's labels
(`i18n`) and its translated error messages (`i18n_errors`).

Their own module because `i18n` imports `i18n_errors`: kept in either, the other could not import
them without a cycle, and two copies drift apart.
"""
from __future__ import annotations

ROLE_NAMES = {"admin": "系统管理员", "designer": "流程设计员", "agent": "代办员", "staff": "审批人员",
              "leader": "部门领导", "government": "政府协调", "system": "系统", "worker": "外部任务程序",
              "enterprise": "企业联系人"}
CASE_STATUS = {"running": "办理中", "suspended": "已中止", "completed": "已办结", "cancelled": "已终止"}
ESCALATION_STATUS = {"open": "待协调", "escalated": "已上报上一级", "resolved": "已协调"}
