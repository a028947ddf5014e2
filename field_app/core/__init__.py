"""The field app's core: presenters and services the screens call. No Kivy here.

`session` (login, the kept device id, staying logged in), `tasklist`, `detail`, `actions`,
`report` (a fix), `patrol` (a find), `photo_draft` (their photos), `captures` (photos an
interrupted capture left behind), `conflicts`, `settings`, `sync_runner` (background syncs
with backoff), `handover` (the app in front syncs, Android's service behind it) and
`sync_loop` (the same runner for the service), `map_model` (the offline grid map, projected
to screen coordinates), `display` (times and distances as a worker reads them),
`background` (one call off the UI thread).
"""
