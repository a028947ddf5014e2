"""Logins, tokens per device, expiry and revocation, and that passwords are kept only as
slow salted hashes."""

from __future__ import annotations

from typing import Any

from conftest import Api


def _login(api: Api, username: str, device: str, password: str = "demo") -> Any:
    return api.post(
        "/api/v1/auth/login", json={"username": username, "password": password, "device_id": device}
    )


def test_login_answers_token_and_user(api: Api) -> None:
    resp = _login(api, "jsl-worker-03", "phone-a")
    assert resp.status_code == 200
    body = resp.json()
    assert body["user"] == {
        "id": "jsl-worker-03",
        "username": "jsl-worker-03",
        "display_name": body["user"]["display_name"],
        "role": "worker",
        "street_code": "JSL",
        "grid_codes": ["JSL-03"],
        "on_duty": True,
    }
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["id"] == "jsl-worker-03"
    wrong = _login(api, "jsl-worker-03", "phone-a", password="nope")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    nobody = _login(api, "no-such-user", "phone-a")
    assert nobody.status_code == 401 and nobody.json()["error"]["code"] == "invalid_credentials"


def test_passwords_are_stored_as_argon2_hashes(hub: Any) -> None:
    rows = hub.store.reader.execute("SELECT password_hash FROM users").fetchall()
    assert rows and all(r[0].startswith("$argon2id$") for r in rows)
    # Salted: the same password hashes differently each time.
    from sync.server.auth import hash_password

    assert hash_password("demo") != hash_password("demo")


def test_revoking_one_device_leaves_the_other(api: Api) -> None:
    a = _login(api, "jsl-worker-04", "phone-a").json()["token"]
    b = _login(api, "jsl-worker-04", "phone-b").json()["token"]
    office = api.login("jsl-dispatcher")
    resp = api.post(
        "/api/v1/devices/revoke",
        headers=office,
        json={"user_id": "jsl-worker-04", "device_id": "phone-a"},
    )
    assert resp.status_code == 200 and resp.json() == {"revoked": 1}
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {a}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {b}"}).status_code == 200
    # Another street's office cannot reach this worker at all.
    other = api.post(
        "/api/v1/devices/revoke",
        headers=api.login("hm-dispatcher"),
        json={"user_id": "jsl-worker-04"},
    )
    assert other.status_code == 404


def test_logout_and_expiry(api: Api, hub: Any) -> None:
    token = _login(api, "jsl-worker-05", "phone-a").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/v1/auth/logout", headers=headers).json() == {"revoked": 1}
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    hub.auth.settings.token_ttl_s = -1.0  # tokens issued from now on are already expired
    stale = _login(api, "jsl-worker-05", "phone-b").json()["token"]
    resp = api.get("/api/v1/me", headers={"Authorization": f"Bearer {stale}"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthorized"
    assert resp.headers["www-authenticate"] == "Bearer"
