# onewindow: engine modules moved into layer folders (issue 15).
# Usage: sed -i -f docs/module_moves.sed $(git ls-files '*.py' '*.md')
# 1. split `from engine[.time|.bpmn|.store] import a, b` into one line per name
:split_engine
s/^\([ \t]*\)from engine import \([A-Za-z_][A-Za-z_0-9]*\), \(.*\)$/\1from engine import \2\n\1from engine import \3/M
t split_engine
:split_engine_time
s/^\([ \t]*\)from engine\.time import \([A-Za-z_][A-Za-z_0-9]*\), \(.*\)$/\1from engine.time import \2\n\1from engine.time import \3/M
t split_engine_time
:split_engine_bpmn
s/^\([ \t]*\)from engine\.bpmn import \([A-Za-z_][A-Za-z_0-9]*\), \(.*\)$/\1from engine.bpmn import \2\n\1from engine.bpmn import \3/M
t split_engine_bpmn
:split_engine_store
s/^\([ \t]*\)from engine\.store import \([A-Za-z_][A-Za-z_0-9]*\), \(.*\)$/\1from engine.store import \2\n\1from engine.store import \3/M
t split_engine_store
# 2. `from PACKAGE import module` (one name per line now)
s/^\([ \t]*\)from engine import access as \([A-Za-z_]\)/\1from engine.domain import access as \2/M
s/^\([ \t]*\)from engine import access\b/\1from engine.domain import access/M
s/^\([ \t]*\)from engine import expressions as \([A-Za-z_]\)/\1from engine.domain import expressions as \2/M
s/^\([ \t]*\)from engine import expressions\b/\1from engine.domain import expressions/M
s/^\([ \t]*\)from engine import juel as \([A-Za-z_]\)/\1from engine.domain import juel as \2/M
s/^\([ \t]*\)from engine import juel\b/\1from engine.domain import juel/M
s/^\([ \t]*\)from engine import routing as \([A-Za-z_]\)/\1from engine.domain import routing as \2/M
s/^\([ \t]*\)from engine import routing\b/\1from engine.domain import routing/M
s/^\([ \t]*\)from engine import forms as \([A-Za-z_]\)/\1from engine.domain import forms as \2/M
s/^\([ \t]*\)from engine import forms\b/\1from engine.domain import forms/M
s/^\([ \t]*\)from engine import form_binding as \([A-Za-z_]\)/\1from engine.domain import form_binding as \2/M
s/^\([ \t]*\)from engine import form_binding\b/\1from engine.domain import form_binding/M
s/^\([ \t]*\)from engine import organisation as \([A-Za-z_]\)/\1from engine.domain import organisation as \2/M
s/^\([ \t]*\)from engine import organisation\b/\1from engine.domain import organisation/M
s/^\([ \t]*\)from engine import json_source as \([A-Za-z_]\)/\1from engine.domain import json_source as \2/M
s/^\([ \t]*\)from engine import json_source\b/\1from engine.domain import json_source/M
s/^\([ \t]*\)from engine import business_key as \([A-Za-z_]\)/\1from engine.domain import business_key as \2/M
s/^\([ \t]*\)from engine import business_key\b/\1from engine.domain import business_key/M
s/^\([ \t]*\)from engine\.time import calendar as \([A-Za-z_]\)/\1from engine.domain import calendar as \2/M
s/^\([ \t]*\)from engine\.time import calendar\b/\1from engine.domain import calendar/M
s/^\([ \t]*\)from engine\.bpmn import checks as \([A-Za-z_]\)/\1from engine.domain.bpmn import checks as \2/M
s/^\([ \t]*\)from engine\.bpmn import checks\b/\1from engine.domain.bpmn import checks/M
s/^\([ \t]*\)from engine\.bpmn import parser as \([A-Za-z_]\)/\1from engine.domain.bpmn import parser as \2/M
s/^\([ \t]*\)from engine\.bpmn import parser\b/\1from engine.domain.bpmn import parser/M
s/^\([ \t]*\)from engine\.bpmn import stable_specs as \([A-Za-z_]\)/\1from engine.domain.bpmn import stable_specs as \2/M
s/^\([ \t]*\)from engine\.bpmn import stable_specs\b/\1from engine.domain.bpmn import stable_specs/M
s/^\([ \t]*\)from engine\.bpmn import standard_multi_instance as \([A-Za-z_]\)/\1from engine.domain.bpmn import standard_multi_instance as \2/M
s/^\([ \t]*\)from engine\.bpmn import standard_multi_instance\b/\1from engine.domain.bpmn import standard_multi_instance/M
s/^\([ \t]*\)from engine\.bpmn import timer_values as \([A-Za-z_]\)/\1from engine.domain.bpmn import timer_values as \2/M
s/^\([ \t]*\)from engine\.bpmn import timer_values\b/\1from engine.domain.bpmn import timer_values/M
s/^\([ \t]*\)from engine\.bpmn import validation as \([A-Za-z_]\)/\1from engine.domain.bpmn import validation as \2/M
s/^\([ \t]*\)from engine\.bpmn import validation\b/\1from engine.domain.bpmn import validation/M
s/^\([ \t]*\)from engine\.bpmn import value_checks as \([A-Za-z_]\)/\1from engine.domain.bpmn import value_checks as \2/M
s/^\([ \t]*\)from engine\.bpmn import value_checks\b/\1from engine.domain.bpmn import value_checks/M
s/^\([ \t]*\)from engine\.bpmn import serializer as \([A-Za-z_]\)/\1from engine.adapters import serializer as \2/M
s/^\([ \t]*\)from engine\.bpmn import serializer\b/\1from engine.adapters import serializer/M
s/^\([ \t]*\)from engine\.bpmn import fast_specs as \([A-Za-z_]\)/\1from engine.adapters import fast_specs as \2/M
s/^\([ \t]*\)from engine\.bpmn import fast_specs\b/\1from engine.adapters import fast_specs/M
s/^\([ \t]*\)from engine\.store import models as \([A-Za-z_]\)/\1from engine.adapters import models as \2/M
s/^\([ \t]*\)from engine\.store import models\b/\1from engine.adapters import models/M
s/^\([ \t]*\)from engine\.store import database as \([A-Za-z_]\)/\1from engine.adapters import database as \2/M
s/^\([ \t]*\)from engine\.store import database\b/\1from engine.adapters import database/M
s/^\([ \t]*\)from engine\.store import uow as \([A-Za-z_]\)/\1from engine.adapters import uow as \2/M
s/^\([ \t]*\)from engine\.store import uow\b/\1from engine.adapters import uow/M
s/^\([ \t]*\)from engine\.store import migrate as \([A-Za-z_]\)/\1from engine.adapters import migrate as \2/M
s/^\([ \t]*\)from engine\.store import migrate\b/\1from engine.adapters import migrate/M
s/^\([ \t]*\)from engine\.time import store as \([A-Za-z_]\)/\1from engine.adapters import calendar_store as \2/M
s/^\([ \t]*\)from engine\.time import store\b/\1from engine.adapters import calendar_store as store/M
s/^\([ \t]*\)from engine import queries as \([A-Za-z_]\)/\1from engine.adapters import queries as \2/M
s/^\([ \t]*\)from engine import queries\b/\1from engine.adapters import queries/M
s/^\([ \t]*\)from engine import case_cache as \([A-Za-z_]\)/\1from engine.adapters import case_cache as \2/M
s/^\([ \t]*\)from engine import case_cache\b/\1from engine.adapters import case_cache/M
s/^\([ \t]*\)from engine import history as \([A-Za-z_]\)/\1from engine.adapters import history as \2/M
s/^\([ \t]*\)from engine import history\b/\1from engine.adapters import history/M
s/^\([ \t]*\)from engine import organisation_versions as \([A-Za-z_]\)/\1from engine.adapters import organisation_versions as \2/M
s/^\([ \t]*\)from engine import organisation_versions\b/\1from engine.adapters import organisation_versions/M
s/^\([ \t]*\)from engine import sandbox as \([A-Za-z_]\)/\1from engine.adapters import sandbox as \2/M
s/^\([ \t]*\)from engine import sandbox\b/\1from engine.adapters import sandbox/M
s/^\([ \t]*\)from engine import sandbox_host as \([A-Za-z_]\)/\1from engine.adapters import sandbox_host as \2/M
s/^\([ \t]*\)from engine import sandbox_host\b/\1from engine.adapters import sandbox_host/M
s/^\([ \t]*\)from engine import sandbox_values as \([A-Za-z_]\)/\1from engine.adapters import sandbox_values as \2/M
s/^\([ \t]*\)from engine import sandbox_values\b/\1from engine.adapters import sandbox_values/M
s/^\([ \t]*\)from engine\.time import deadlines as \([A-Za-z_]\)/\1from engine.services import deadlines as \2/M
s/^\([ \t]*\)from engine\.time import deadlines\b/\1from engine.services import deadlines/M
s/^\([ \t]*\)from engine\.time import escalation as \([A-Za-z_]\)/\1from engine.services import escalation as \2/M
s/^\([ \t]*\)from engine\.time import escalation\b/\1from engine.services import escalation/M
s/^\([ \t]*\)from engine\.time import recompute as \([A-Za-z_]\)/\1from engine.services import recompute as \2/M
s/^\([ \t]*\)from engine\.time import recompute\b/\1from engine.services import recompute/M
s/^\([ \t]*\)from engine import workflow as \([A-Za-z_]\)/\1from engine.services import workflow as \2/M
s/^\([ \t]*\)from engine import workflow\b/\1from engine.services import workflow/M
s/^\([ \t]*\)from engine import cases as \([A-Za-z_]\)/\1from engine.services import cases as \2/M
s/^\([ \t]*\)from engine import cases\b/\1from engine.services import cases/M
s/^\([ \t]*\)from engine import definitions as \([A-Za-z_]\)/\1from engine.services import definitions as \2/M
s/^\([ \t]*\)from engine import definitions\b/\1from engine.services import definitions/M
s/^\([ \t]*\)from engine import repair as \([A-Za-z_]\)/\1from engine.services import repair as \2/M
s/^\([ \t]*\)from engine import repair\b/\1from engine.services import repair/M
s/^\([ \t]*\)from engine import batches as \([A-Za-z_]\)/\1from engine.services import batches as \2/M
s/^\([ \t]*\)from engine import batches\b/\1from engine.services import batches/M
s/^\([ \t]*\)from engine import incidents as \([A-Za-z_]\)/\1from engine.services import incidents as \2/M
s/^\([ \t]*\)from engine import incidents\b/\1from engine.services import incidents/M
s/^\([ \t]*\)from engine import users as \([A-Za-z_]\)/\1from engine.services import users as \2/M
s/^\([ \t]*\)from engine import users\b/\1from engine.services import users/M
s/^\([ \t]*\)from engine import progress as \([A-Za-z_]\)/\1from engine.services import progress as \2/M
s/^\([ \t]*\)from engine import progress\b/\1from engine.services import progress/M
s/^\([ \t]*\)from engine import start_timers as \([A-Za-z_]\)/\1from engine.services import start_timers as \2/M
s/^\([ \t]*\)from engine import start_timers\b/\1from engine.services import start_timers/M
s/^\([ \t]*\)from engine import timers as \([A-Za-z_]\)/\1from engine.services import timers as \2/M
s/^\([ \t]*\)from engine import timers\b/\1from engine.services import timers/M
s/^\([ \t]*\)from engine import workbench as \([A-Za-z_]\)/\1from engine.services import workbench as \2/M
s/^\([ \t]*\)from engine import workbench\b/\1from engine.services import workbench/M
s/^\([ \t]*\)from engine import diagram as \([A-Za-z_]\)/\1from engine.services import diagram as \2/M
s/^\([ \t]*\)from engine import diagram\b/\1from engine.services import diagram/M
# 3. dotted module names (imports of names, strings, docstrings)
s/\(^\|[^.A-Za-z_0-9]\)engine\.access\b/\1engine.domain.access/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.expressions\b/\1engine.domain.expressions/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.juel\b/\1engine.domain.juel/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.routing\b/\1engine.domain.routing/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.forms\b/\1engine.domain.forms/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.form_binding\b/\1engine.domain.form_binding/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.organisation\b/\1engine.domain.organisation/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.json_source\b/\1engine.domain.json_source/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.business_key\b/\1engine.domain.business_key/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.time\.calendar\b/\1engine.domain.calendar/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.checks\b/\1engine.domain.bpmn.checks/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.parser\b/\1engine.domain.bpmn.parser/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.stable_specs\b/\1engine.domain.bpmn.stable_specs/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.standard_multi_instance\b/\1engine.domain.bpmn.standard_multi_instance/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.timer_values\b/\1engine.domain.bpmn.timer_values/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.validation\b/\1engine.domain.bpmn.validation/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.value_checks\b/\1engine.domain.bpmn.value_checks/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.serializer\b/\1engine.adapters.serializer/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.bpmn\.fast_specs\b/\1engine.adapters.fast_specs/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.store\.models\b/\1engine.adapters.models/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.store\.database\b/\1engine.adapters.database/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.store\.uow\b/\1engine.adapters.uow/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.store\.migrate\b/\1engine.adapters.migrate/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.time\.store\b/\1engine.adapters.calendar_store/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.queries\b/\1engine.adapters.queries/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.case_cache\b/\1engine.adapters.case_cache/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.history\b/\1engine.adapters.history/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.organisation_versions\b/\1engine.adapters.organisation_versions/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.sandbox\b/\1engine.adapters.sandbox/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.sandbox_host\b/\1engine.adapters.sandbox_host/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.sandbox_values\b/\1engine.adapters.sandbox_values/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.time\.deadlines\b/\1engine.services.deadlines/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.time\.escalation\b/\1engine.services.escalation/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.time\.recompute\b/\1engine.services.recompute/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.workflow\b/\1engine.services.workflow/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.cases\b/\1engine.services.cases/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.definitions\b/\1engine.services.definitions/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.repair\b/\1engine.services.repair/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.batches\b/\1engine.services.batches/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.incidents\b/\1engine.services.incidents/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.users\b/\1engine.services.users/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.progress\b/\1engine.services.progress/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.start_timers\b/\1engine.services.start_timers/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.timers\b/\1engine.services.timers/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.workbench\b/\1engine.services.workbench/gM
s/\(^\|[^.A-Za-z_0-9]\)engine\.diagram\b/\1engine.services.diagram/gM
# 4. file paths in comments and docs
s#\(^\|[^/A-Za-z_0-9]\)engine/access\.py#\1engine/domain/access.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/expressions\.py#\1engine/domain/expressions.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/juel\.py#\1engine/domain/juel.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/routing\.py#\1engine/domain/routing.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/forms\.py#\1engine/domain/forms.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/form_binding\.py#\1engine/domain/form_binding.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/organisation\.py#\1engine/domain/organisation.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/json_source\.py#\1engine/domain/json_source.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/business_key\.py#\1engine/domain/business_key.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/time/calendar\.py#\1engine/domain/calendar.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/checks\.py#\1engine/domain/bpmn/checks.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/parser\.py#\1engine/domain/bpmn/parser.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/stable_specs\.py#\1engine/domain/bpmn/stable_specs.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/standard_multi_instance\.py#\1engine/domain/bpmn/standard_multi_instance.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/timer_values\.py#\1engine/domain/bpmn/timer_values.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/validation\.py#\1engine/domain/bpmn/validation.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/value_checks\.py#\1engine/domain/bpmn/value_checks.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/serializer\.py#\1engine/adapters/serializer.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/bpmn/fast_specs\.py#\1engine/adapters/fast_specs.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/store/models\.py#\1engine/adapters/models.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/store/database\.py#\1engine/adapters/database.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/store/uow\.py#\1engine/adapters/uow.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/store/migrate\.py#\1engine/adapters/migrate.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/time/store\.py#\1engine/adapters/calendar_store.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/queries\.py#\1engine/adapters/queries.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/case_cache\.py#\1engine/adapters/case_cache.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/history\.py#\1engine/adapters/history.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/organisation_versions\.py#\1engine/adapters/organisation_versions.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/sandbox\.py#\1engine/adapters/sandbox.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/sandbox_host\.py#\1engine/adapters/sandbox_host.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/sandbox_values\.py#\1engine/adapters/sandbox_values.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/time/deadlines\.py#\1engine/services/deadlines.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/time/escalation\.py#\1engine/services/escalation.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/time/recompute\.py#\1engine/services/recompute.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/workflow\.py#\1engine/services/workflow.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/cases\.py#\1engine/services/cases.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/definitions\.py#\1engine/services/definitions.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/repair\.py#\1engine/services/repair.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/batches\.py#\1engine/services/batches.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/incidents\.py#\1engine/services/incidents.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/users\.py#\1engine/services/users.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/progress\.py#\1engine/services/progress.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/start_timers\.py#\1engine/services/start_timers.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/timers\.py#\1engine/services/timers.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/workbench\.py#\1engine/services/workbench.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/diagram\.py#\1engine/services/diagram.py#gM
s#\(^\|[^/A-Za-z_0-9]\)engine/time/#\1engine/domain/#gM
