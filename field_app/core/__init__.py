"""The field app's core: presenters and services the screens call. No Kivy here.

`session` (login, the kept device id, staying logged in), `tasklist`, `detail`, `actions`,
`report` (a fix), `patrol` (a find), `conflicts`, `settings`, `sync_runner` (background
syncs with backoff) and `sync_loop` (the same runner for Android's background service),
`map_model` (the offline grid map, projected to screen coordinates), `display` (times and
distances as a worker reads them), `background` (one call off the UI thread).
"""
