"""app-portal-access, logout and expire-all through the official Svix SDK, and the portal's JSON API."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from svix.api import (
    ApplicationIn,
    ApplicationTokenExpireIn,
    AppPortalAccessIn,
    EndpointIn,
    EventTypeIn,
    MessageIn,
    Svix,
    SvixOptions,
)
from svix.exceptions import HttpError, HTTPValidationError

from tests.api.polling import wait_until
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess


def _portal(server: HookwireProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/portal/api/v1", headers={"authorization": f"Bearer {token}"}, timeout=10
    )


def test_capabilities_and_feature_flags_limit_what_a_token_sees(
    svix: Svix, server: HookwireProcess, receiver: Receiver
) -> None:
    app = svix.application.create(ApplicationIn(name="Caps"))
    endpoint = svix.endpoint.create(app.id, EndpointIn(url=f"{receiver.url}/caps"))
    svix.event_type.create(EventTypeIn(name="caps.test", description="d"))
    viewer = svix.authentication.app_portal_access(app.id, AppPortalAccessIn(capabilities=["ViewBase"]))
    tester = svix.authentication.app_portal_access(
        app.id, AppPortalAccessIn(capabilities=["ViewBase", "CreateAttempts"])
    )
    everything = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())

    with _portal(server, viewer.token) as portal:
        assert portal.get("/endpoint").json()["data"][0]["id"] == endpoint.id
        assert portal.get(f"/endpoint/{endpoint.id}/secret").status_code == 404
        assert portal.patch(f"/endpoint/{endpoint.id}", json={"disabled": True}).status_code == 404
        assert (
            portal.post(f"/endpoint/{endpoint.id}/send-example", json={"eventType": "caps.test"}).status_code
            == 404
        )
    with _portal(server, tester.token) as portal:
        sent = portal.post(f"/endpoint/{endpoint.id}/send-example", json={"eventType": "caps.test"})
        assert sent.status_code == 202
        assert portal.get(f"/endpoint/{endpoint.id}/secret").status_code == 404
    with _portal(server, everything.token) as portal:
        assert (
            portal.get(f"/endpoint/{endpoint.id}/secret").json()["key"]
            == svix.endpoint.get_secret(app.id, endpoint.id).key
        )
        assert (
            portal.patch(f"/endpoint/{endpoint.id}", json={"description": "mine"}).json()["description"]
            == "mine"
        )
        created = portal.post("/endpoint", json={"url": f"{receiver.url}/second"})
        assert created.status_code == 201
    assert len(svix.endpoint.list(app.id).data) == 2

    # featureFlags limit the catalogue
    svix.event_type.create(EventTypeIn(name="plain.event", description="for everyone"))
    svix.event_type.create(EventTypeIn(name="beta.event", description="beta only", feature_flags=["beta"]))
    plain = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    beta = svix.authentication.app_portal_access(app.id, AppPortalAccessIn(feature_flags=["beta"]))
    with _portal(server, plain.token) as portal:
        assert sorted(t["name"] for t in portal.get("/event-type").json()["data"]) == [
            "caps.test",
            "plain.event",
        ]
    with _portal(server, beta.token) as portal:
        assert "beta.event" in [t["name"] for t in portal.get("/event-type").json()["data"]]


def test_another_applications_ids_are_not_found(
    svix: Svix, server: HookwireProcess, receiver: Receiver
) -> None:
    mine = svix.application.create(ApplicationIn(name="Mine"))
    theirs = svix.application.create(ApplicationIn(name="Theirs"))
    their_endpoint = svix.endpoint.create(theirs.id, EndpointIn(url=f"{receiver.url}/theirs"))
    their_msg = svix.message.create(theirs.id, MessageIn(event_type="x.y", payload={"secret": "theirs"}))
    attempt = wait_until(lambda: svix.message_attempt.list_by_msg(theirs.id, their_msg.id).data, bool)[0]
    token = svix.authentication.app_portal_access(mine.id, AppPortalAccessIn()).token
    with _portal(server, token) as portal:
        assert portal.get("/endpoint").json()["data"] == []
        for path in (
            f"/endpoint/{their_endpoint.id}",
            f"/endpoint/{their_endpoint.id}/secret",
            f"/endpoint/{their_endpoint.id}/attempt",
            f"/msg/{their_msg.id}",
            f"/msg/{their_msg.id}/attempt/{attempt.id}",
        ):
            answer = portal.get(path)
            assert answer.status_code == 404, path
            assert "theirs" not in answer.text
        assert portal.delete(f"/endpoint/{their_endpoint.id}").status_code == 404
        assert portal.post(f"/msg/{their_msg.id}/endpoint/{their_endpoint.id}/resend").status_code == 404
    assert svix.endpoint.get(theirs.id, their_endpoint.id).id == their_endpoint.id


def test_tokens_are_checked_stored_hashed_and_can_be_ended(svix: Svix, server: HookwireProcess) -> None:
    app = svix.application.create(ApplicationIn(name="Ending"))
    first = svix.authentication.app_portal_access(app.id, AppPortalAccessIn(session_id="alice"))
    second = svix.authentication.app_portal_access(app.id, AppPortalAccessIn(session_id="bob"))
    third = svix.authentication.app_portal_access(app.id, AppPortalAccessIn(session_id="bob"))

    Svix(first.token, SvixOptions(server_url=server.url, retry_schedule=[])).authentication.logout()
    with _portal(server, first.token) as portal:
        assert portal.get("/endpoint").status_code == 401
    with pytest.raises(HttpError):  # the admin token is not a portal token: nothing to log out
        svix.authentication.logout()

    svix.authentication.expire_all(app.id, ApplicationTokenExpireIn(session_ids=["bob"]))
    for token in (second.token, third.token):
        with _portal(server, token) as portal:
            assert portal.get("/endpoint").status_code == 401
    fresh = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    with _portal(server, fresh.token) as portal:
        assert portal.get("/endpoint").status_code == 200
    svix.authentication.expire_all(app.id, ApplicationTokenExpireIn())
    with _portal(server, fresh.token) as portal:
        assert portal.get("/endpoint").status_code == 401

    # bad requests, a missing application, creating one on the way, the token on the operator API
    with pytest.raises(HTTPValidationError):
        svix.authentication.app_portal_access("app_missing", AppPortalAccessIn(expiry=60))
    with pytest.raises(HttpError) as missing:
        svix.authentication.app_portal_access("no-such-app", AppPortalAccessIn())
    assert missing.value.status_code == 404
    created = svix.authentication.app_portal_access(
        "made-by-portal-link",
        AppPortalAccessIn(application=ApplicationIn(name="Made here", uid="made-by-portal-link")),
    )
    assert svix.application.get("made-by-portal-link").name == "Made here"
    assert created.url.endswith(f"/portal/login#key={created.token}")
    refused = httpx.get(f"{server.url}/api/v1/app", headers={"authorization": f"Bearer {created.token}"})
    assert refused.status_code == 401
    if server.database_url.startswith("sqlite:///"):  # only a hash of each token is stored
        with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as db:
            rows = db.execute("SELECT * FROM portal_tokens").fetchall()
        assert rows and not any(created.token in str(value) for row in rows for value in row)
