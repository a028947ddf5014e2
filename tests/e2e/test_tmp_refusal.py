from conftest import op
from test_replica_sync import device
from sync.syncjob import sync_once

def test_refusal_after_lost_answer(live_hub, tmp_path):
    hub = live_hub.hub
    replica, client = device(tmp_path, live_hub.url, "jsl-worker-03")
    sync_once(replica, client)
    task = next(t for t in replica.tasks(["assigned"]))
    replica.comment(task["id"], "到场")
    hub.store.push(hub.store.user("jsl-dispatcher"), "desk", [op("task.assign", task["id"], assignee_id="jsl-worker-04")])
    # the sync's push reaches the hub, then the device dies before it takes the answer in
    answers = client.push(replica.device_id, replica.outbox())
    print(answers)
    result = sync_once(replica, client)
    print(result.pushed, replica.refusals(), replica.outbox())
    print(hub.store.list_conflicts(hub.store.user("jsl-worker-03")))
    assert [r["op_id"] for r in replica.refusals()] == [answers[0]["op_id"]]
