"""The chat server's front door (assistant/ui/server_guard.py): failed sign-ins slowed down,
cookies Secure behind HTTPS, other origins' websockets refused; and expired API tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from assistant.ui.server_guard import FailedSignIns, ServerGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_waits_after_repeated_failures_and_the_wait_doubles() -> None:
    clock = Clock()
    limits = FailedSignIns(max_failures=3, window=900, delay=30, max_delay=100, clock=clock)
    for _ in range(2):
        limits.failed("user:pat")
    assert limits.wait("user:pat") == 0
    limits.failed("user:pat")
    assert limits.wait("user:pat") == 30
    clock.now += 10
    assert limits.wait("user:pat") == 20
    assert limits.wait("user:alice") == 0  # other keys are not affected
    clock.now += 20
    assert limits.wait("user:pat") == 0
    limits.failed("user:pat")  # a 4th failure: 60 s, a 5th: 120 s capped at 100
    assert limits.wait("user:pat") == 60
    limits.failed("user:pat")
    assert limits.wait("user:pat") == 100
    limits.succeeded("user:pat")
    assert limits.wait("user:pat") == 0
    # failures older than the window no longer count
    for _ in range(3):
        limits.failed("address:10.0.0.9")
    clock.now += 901
    assert limits.wait("address:10.0.0.9") == 0
    assert FailedSignIns(max_failures=0, clock=clock).wait("anything") == 0


async def _login(request: Request) -> Response:
    form = await request.form()
    ok = form.get("username") == "pat" and form.get("password") == "right-passphrase"
    if not ok:
        return JSONResponse({"detail": "credentialssignin"}, status_code=401)
    response = JSONResponse({"success": True})
    response.set_cookie("access_token", "jwt", httponly=True, samesite="lax")
    return response


async def _api(request: Request) -> Response:
    ok = request.headers.get("authorization") == "Bearer good"
    return JSONResponse({}, status_code=200 if ok else 401)


async def _socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def _client(clock: Clock, origins: tuple[str, ...] = ()) -> TestClient:
    app = Starlette(
        routes=[
            Route("/login", _login, methods=["POST"]),
            Route("/api/ask", _api, methods=["POST"]),
            Route("/other", lambda r: JSONResponse({}, status_code=401)),
            WebSocketRoute("/ws/socket.io/", _socket),
        ]
    )
    users = FailedSignIns(max_failures=3, delay=30, clock=clock)
    addresses = FailedSignIns(max_failures=6, delay=30, clock=clock)
    app.add_middleware(ServerGuard, users=users, addresses=addresses, origins=origins)
    return TestClient(app, base_url="http://chat.example.org")


def test_repeated_wrong_passwords_are_refused_for_a_while() -> None:
    clock = Clock()
    client = _client(clock)
    for _ in range(3):
        got = client.post("/login", files={"username": (None, "pat"), "password": (None, "no")})
        assert got.status_code == 401
    # the right password now waits too (multipart, as the chat's page sends it)
    right = {"username": (None, "pat"), "password": (None, "right-passphrase")}
    refused = client.post("/login", files=right)
    assert refused.status_code == 429
    assert refused.json() == {"detail": "tooManyAttempts"}
    assert refused.headers["retry-after"] == "30"
    clock.now += 31
    assert client.post("/login", files=right).status_code == 200


def test_the_address_waits_whichever_names_it_tries() -> None:
    clock = Clock()
    client = _client(clock)
    for name in ("ann", "bob", "cy"):  # twice each, under their own limit of 3
        for _ in range(2):
            got = client.post("/login", data={"username": name, "password": "x"})
            assert got.status_code == 401
    assert client.post("/login", data={"username": "gus", "password": "x"}).status_code == 429


def test_bad_tokens_on_the_api_make_the_address_wait() -> None:
    clock = Clock()
    client = _client(clock)
    bad = {"authorization": "Bearer guess"}
    assert [client.post("/api/ask", headers=bad).status_code for _ in range(7)] == [401] * 6 + [429]
    assert client.post("/api/ask", headers={"authorization": "Bearer good"}).status_code == 429
    clock.now += 31
    assert client.post("/api/ask", headers={"authorization": "Bearer good"}).status_code == 200
    # a 401 elsewhere (not a sign-in) is not counted
    assert [client.get("/other").status_code for _ in range(5)] == [401] * 5


def test_the_session_cookie_is_secure_behind_https_only() -> None:
    clock = Clock()
    form = {"username": "pat", "password": "right-passphrase"}
    plain = _client(clock).post("/login", data=form).headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=lax" in plain and "Secure" not in plain
    https = TestClient(_client(clock).app, base_url="https://chat.example.org")
    cookie = https.post("/login", data=form).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and cookie.endswith("; Secure")


def test_a_page_of_another_origin_cannot_open_the_chat_websocket() -> None:
    clock = Clock()
    client = _client(clock, origins=("https://intranet.example.org/",))
    with client.websocket_connect(  # the test client reaches the server as "testserver"
        "/ws/socket.io/", headers={"origin": "http://testserver"}
    ) as ws:
        assert ws.receive_text() == "hello"
    with client.websocket_connect(
        "/ws/socket.io/", headers={"origin": "https://intranet.example.org"}
    ) as ws:
        assert ws.receive_text() == "hello"
    behind_proxy = {"origin": "https://chat.example.org", "x-forwarded-host": "chat.example.org"}
    with client.websocket_connect("/ws/socket.io/", headers=behind_proxy) as ws:
        assert ws.receive_text() == "hello"
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(
            "/ws/socket.io/", headers={"origin": "https://evil.example.com"}
        ) as ws,
    ):
        ws.receive_text()


def test_the_chat_config_has_the_configured_origins_and_transports(tmp_path: Path) -> None:
    import tomllib

    from assistant.ui import app_root
    from core.settings import Settings

    settings = Settings()
    settings.paths.data_dir = tmp_path
    root = app_root.prepare(settings, "extractive")
    config = tomllib.loads((root / ".chainlit" / "config.toml").read_text())
    assert config["project"]["allow_origins"] == []
    assert "transports" not in config["project"]  # Chainlit's default: polling, then websocket
    settings.server.allowed_origins = ["https://intranet.example.org/"]
    settings.server.websocket_only = True
    root = app_root.prepare(settings, "extractive")
    config = tomllib.loads((root / ".chainlit" / "config.toml").read_text())
    assert config["project"]["allow_origins"] == ["https://intranet.example.org"]
    assert config["project"]["transports"] == ["websocket"]
