from tests.api.conftest import *  # noqa
from tests.bpmn_text import around

def test_long(client, api_users):
    el = '    <bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>'
    for name, data in {"longid": around(el, pid="p" * 300), "longname": around(el).replace(b'id="proc"', b'id="proc" name="' + b"n" * 300 + b'"'),
                       "longtask": around(el.replace('id="T"', 'id="' + "t"*300 + '"').replace('targetRef="T"', 'targetRef="' + "t"*300 + '"').replace('sourceRef="T"', 'sourceRef="' + "t"*300 + '"'))}.items():
        if name == "longtask":
            data = around(el).replace(b'"T"', b'"' + b"t"*300 + b'"')
        r = client.post("/api/v1/process-definitions", data=data, headers={**api_users.header("dora"), "Content-Type": "application/xml"}, query_string={"filename": name + ".bpmn"})
        print(name, r.status_code, str(r.get_json())[:200])
        if r.status_code == 201:
            key = r.get_json()["key"]
            s = client.post("/api/v1/cases", json={"process_key": key, "business_key": "2026-510117-34-01-000001", "project": {}}, headers=api_users.header("alice"))
            print("  start", s.status_code, str(s.get_json())[:200])
    assert 0
