"""GET /cases/{id}/diagram.svg and /process-definitions/{key}/diagram.svg for integrators."""
from __future__ import annotations

from tests.api.conftest import auth
from tests.scenarios.story import PROCESSES


def test_case_and_definition_diagrams_as_svg(client, api_users, deploy, start_case):
    response = client.post("/api/v1/process-definitions", data=(PROCESSES / "site_selection.bpmn").read_bytes(),
                           headers={**auth(api_users, "dora"), "Content-Type": "application/xml"})
    assert response.status_code == 201
    svg = client.get("/api/v1/process-definitions/site_selection/diagram.svg", headers=auth(api_users, "alice"))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<svg") and 'data-element-id="SiteOpinion"' in svg.get_data(as_text=True)
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    assert client.get("/api/v1/process-definitions/site_selection/diagram.svg?version=1",
                      headers=auth(api_users, "alice")).status_code == 200
    assert client.get("/api/v1/process-definitions/site_selection/diagram.svg?version=2",
                      headers=auth(api_users, "alice")).status_code == 404
    assert client.get("/api/v1/process-definitions/site_selection/diagram.svg?version=0",
                      headers=auth(api_users, "alice")).status_code == 422
    assert client.get("/api/v1/process-definitions/nothing/diagram.svg", headers=auth(api_users, "alice")).status_code == 404
    assert client.get("/api/v1/process-definitions/site_selection/diagram.svg").status_code == 401

    deploy("parallel_approval.bpmn")  # a file without DI
    case = start_case()
    own = client.get(f"/api/v1/cases/{case['id']}/diagram.svg", headers=auth(api_users, "alice"))
    assert own.status_code == 200 and "不含图形信息" in own.get_data(as_text=True)
    assert client.get(f"/api/v1/cases/{case['id']}/diagram.svg", headers=auth(api_users, "bob")).status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}/diagram.svg", headers=auth(api_users, "dora")).status_code == 403
    assert client.get("/api/v1/cases/nope/diagram.svg", headers=auth(api_users, "root")).status_code == 404
