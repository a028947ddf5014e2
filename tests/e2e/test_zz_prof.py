import time
from conftest import LiveHub
from test_replica_sync import device
from sync.syncjob import sync_once

def test_prof(live_hub, tmp_path):
    for u in ["jsl-worker-03", "jsl-dispatcher", "jsl-supervisor"]:
        t = time.monotonic()
        r, c = device(tmp_path, live_hub.url, u)
        res = sync_once(r, c)
        print(u, time.monotonic() - t, res.pulled, len(r.tasks()))
        t = time.monotonic()
        sync_once(r, c)
        print(" again", time.monotonic() - t)
