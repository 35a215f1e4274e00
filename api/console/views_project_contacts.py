"""The enterprise contact's sign-in, created by the project's agent from the project page (the
same `projects.create_enterprise_user` as `onewindow users create NAME --role enterprise --project
CODE` and `POST /api/v1/projects/{code}/enterprise-users`). The password — typed by the agent or,
left blank, generated — and the API token are shown once on the page that answers the form and
never again: the agent hands them to the contact."""
from __future__ import annotations

import secrets

from flask import Response, request

from api.console import i18n
from api.console.blueprint import blueprint
from api.console.views_projects import render_project
from api.console.web import actor
from api.runtime import runtime
from engine.errors import Conflict, Invalid
from engine.services import projects


@blueprint.post("/projects/<code>/contacts")
def project_contact_add(code: str) -> Response:
    form = {"name": request.form.get("name", "").strip()}
    typed = request.form.get("password", "")
    password = typed or secrets.token_urlsafe(12)
    try:
        token, existed = projects.add_enterprise_contact(runtime().unit_of_work(), actor(), form["name"], code,
                                                         password=password)
    except Invalid as error:
        errors = {k: [i18n.field_message(m) for m in v] for k, v in error.errors.items()}
        return render_project(code, status=422, contact_form=form, contact_errors=errors)
    except Conflict as error:  # the name belongs to a person of another role: say it at the name
        return render_project(code, status=409, contact_form=form, contact_errors={"name": [i18n.detail(error.detail)]})
    created = {"name": form["name"], "existed": existed, "token": token or None,
               "password": None if existed else password, "generated": not existed and not typed}
    return render_project(code, created=created)
