"""Designer pages: processes with their versions and open cases, one version's diagram, and a BPMN
upload that lists every problem with its line (the checks of `POST /process-definitions`)."""
from __future__ import annotations

from flask import Response, redirect, request, url_for
from markupsafe import Markup

from api.console.blueprint import blueprint
from api.console.views_work import notice
from api.console.web import actor, page
from api.runtime import runtime
from engine.domain import access
from engine.services import definitions
from engine.services import diagram
from engine.services import workbench
from engine.errors import Invalid, InvalidDefinition, NotFound

MAX_BPMN = 5 * 1024 * 1024


def _overview(**context) -> Response:  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        processes = workbench.definitions_overview(uow)
    status = context.pop("status", 200)
    return page("definitions.html", status=status, processes=processes, notice=notice(), **context)


@blueprint.get("/definitions", endpoint="definitions")
def definitions_page() -> Response:
    return _overview()


@blueprint.post("/definitions")
def deploy() -> Response:
    who = actor()
    access.require_role(who, "designer")
    uploads = [f for f in request.files.getlist("file") if f and f.filename]  # a BPMN file and its DMN files
    if not uploads:
        return _overview(status=422, problems=["请选择一个 .bpmn 文件。"])
    files = [(upload.read(MAX_BPMN + 1), upload.filename) for upload in uploads]
    empty = [name for data, name in files if not data]
    if empty:
        return _overview(status=422, problems=[f"{empty[0]}: 文件是空的。"])
    file_name = "、".join(name for _, name in files)
    dry_run = request.form.get("dry_run") == "1"
    try:
        result = definitions.deploy_uploads(runtime().unit_of_work(), who, files, dry_run=dry_run)
        deployed = [(d.key, d.version) for d in result.definitions]
    except InvalidDefinition as error:
        return _overview(status=422, problems=error.problems, file_name=file_name)
    except Invalid as error:
        problems = [m for ms in error.errors.values() for m in ms] or [error.detail]
        return _overview(status=422, problems=problems, file_name=file_name)
    if dry_run:
        words = "检查通过，可以部署：" if result.created else "与已部署的最新版本相同："
        return _overview(checked=words + "、".join(f"{k} v{v}" for k, v in deployed))
    key = deployed[0][0]
    return redirect(url_for("console.definition", key=key, done="deployed" if result.created else "unchanged"),
                    code=303)


@blueprint.get("/definitions/<key>")
def definition(key: str) -> Response:
    raw = request.args.get("version", "")
    if raw and (not raw.isdigit() or not 1 <= int(raw) < 2**31):
        raise NotFound(f"process definition {key!r} version {raw} is not deployed")
    version = int(raw) if raw else None
    with runtime().unit_of_work(write=False) as uow:
        detail = definitions.definition_detail(uow, key)
        svg = diagram.definition_diagram(uow, key, version)
        overview = next((p for p in workbench.definitions_overview(uow) if p["key"] == key), None)
    shown = version or detail["version"]
    return page("definition.html", detail=detail, overview=overview, shown=shown, diagram=Markup(svg),
                notice=notice())
