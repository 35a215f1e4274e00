from tests.api.conftest import *  # noqa

def test_due(client, api_users):
    for frm, dur in [("9999-12-31T17:00+08:00", "5 working days"), ("9999-12-31T23:00-08:00", "1 day"),
                     ("2026-03-02T09:00+08:00", "99999999999999999999 days"), ("2026-03-02T09:00+08:00", "99999999999999999999 working days"),
                     ("2026-03-02T09:00+08:00", "99999999999999999999 hours"), ("2026-03-02T09:00+08:00", "P99999999999999999999D"),
                     ("2026-03-02T09:00+08:00", "3000000 days"), ("2026-03-02T09:00+08:00", "300000 working days"),
                     ("0001-01-01T00:00+14:00", "1 day"), ("2026-03-02T09:00+08:00", "PT99999999999999999999H")]:
        r = client.get("/api/v1/calendar/due", query_string={"from": frm, "duration": dur}, headers=api_users.header("root"))
        print(frm, dur, r.status_code, r.get_json().get("detail") if r.status_code != 200 else r.get_json())
    assert 0
