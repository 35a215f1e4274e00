"""The OpenAPI document: valid, complete, and consistent with the routes."""
from __future__ import annotations

from openapi_spec_validator import validate

V1 = "/api/v1"
PUBLIC = {f"{V1}/health", f"{V1}/openapi.json", f"{V1}/public/projects/{{business_key}}",
          f"{V1}/payments/callback"}  # the payment gateway's notification: its signature authenticates it


def test_document_is_valid_openapi_3(client):
    response = client.get(f"{V1}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "a token from `onewindow users create`"}


def test_every_route_is_documented_with_its_problems(app, client):
    document = client.get(f"{V1}/openapi.json").get_json()
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith((V1, "/engine-rest/")):  # the API and its Camunda 7 compatible subset
            path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == documented
    for path, method in documented:
        op = document["paths"][path][method]
        assert op["summary"] and op["responses"], (path, method)
        codes = set(op["responses"])
        if path in PUBLIC:
            assert op.get("security") == [], path
        else:
            assert "security" not in op and "401" in codes, (path, method)
        if "requestBody" in op:
            assert {"400", "415", "422"} <= codes or "application/json" not in op["requestBody"]["content"]
            assert "413" in codes, (path, method)
        if "{" in path:
            assert "404" in codes, (path, method)
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")) and path.startswith("/engine-rest/"):  # Camunda's {type, message}
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/CamundaError"}, (path, method, code)
            elif code.startswith(("4", "5")):
                assert response["$ref"].startswith("#/components/responses/"), (path, method, code)


def test_required_paths_of_the_contract(client):
    paths = client.get(f"{V1}/openapi.json").get_json()["paths"]
    for path, method in [
        ("/health", "get"), ("/process-definitions", "post"), ("/process-definitions", "get"),
        ("/process-definitions/{key}", "get"), ("/process-definitions/{key}/versions/{n}", "get"),
        ("/cases", "post"), ("/cases", "get"), ("/cases/{case_id}", "get"), ("/cases/{case_id}/history", "get"),
        ("/cases/{case_id}/suspend", "post"), ("/cases/{case_id}/resume", "post"),
        ("/cases/{case_id}/cancel", "post"), ("/cases/{case_id}/messages", "post"), ("/messages", "post"),
        ("/tasks", "get"), ("/tasks/{task_id}", "get"), ("/tasks/{task_id}/claim", "post"),
        ("/tasks/{task_id}/unclaim", "post"), ("/tasks/{task_id}/complete", "post"),
        ("/public/projects/{business_key}", "get"), ("/departments", "get"),
    ]:
        assert method in paths[V1 + path], path
    params = {p["name"] for p in paths[f"{V1}/cases"]["get"]["parameters"]}
    assert params == {"page", "per_page", "status", "business_key", "process_key", "agent", "department", "overdue",
                      "region"}
    params = {p["name"] for p in paths[f"{V1}/tasks"]["get"]["parameters"]}
    assert params == {"page", "per_page", "state", "department", "assignee", "case_id", "process_key", "sla", "sort",
                      "region"}
