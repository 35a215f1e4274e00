import io
from tests.api.conftest import *  # noqa
from tests.bpmn_text import around

EL = '    <bpmn:userTask id="T" name="审批"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>'

def test_enc(client, api_users):
    text = around(EL).decode()
    variants = {
        "utf16": text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
        "gbk": text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"),
        "bom": b"\xef\xbb\xbf" + text.encode(),
    }
    for name, data in variants.items():
        r = client.post("/api/v1/process-definitions", data=data, headers={**api_users.header("dora"), "Content-Type": "application/xml"}, query_string={"filename": name + ".bpmn"})
        print(name, r.status_code, str(r.get_json())[:200])
    for fname in ["a\x00b.bpmn", "\udcff.bpmn", "../../etc/passwd", "", "a/"]:
        try:
            r = client.post("/api/v1/process-definitions", data={"file": (io.BytesIO(variants["bom"]), fname)}, content_type="multipart/form-data", headers=api_users.header("dora"))
            print(repr(fname), r.status_code, str(r.get_json())[:200])
        except Exception as e:
            print(repr(fname), "EXC", e)
    assert 0
