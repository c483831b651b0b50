"""Where the client commands (`listen`, `login`, ...) find the server: flags, then
HOOKWIRE_URL / HOOKWIRE_TOKEN, then the file `hookwire login` wrote (mode 0600, in the user's
config directory as platformdirs names it)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from hookwire.errors import ConfigError

DEFAULT_URL = "http://127.0.0.1:8040"


@dataclass(frozen=True)
class ServerAccess:
    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


def login_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("HOOKWIRE_CONFIG_DIR") or platformdirs.user_config_dir("hookwire")
    return Path(base) / "login.toml"


def save_login(url: str, token: str, environ: Mapping[str, str] | None = None) -> Path:
    """Write the login file readable by its owner only (it holds the admin token)."""
    path = login_file(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"url = {_toml_string(url)}\ntoken = {_toml_string(token)}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # also when the file existed with a wider mode
    return path


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_access(
    url: str | None = None, token: str | None = None, environ: Mapping[str, str] | None = None
) -> ServerAccess:
    """The server and token: flags, then HOOKWIRE_URL / HOOKWIRE_TOKEN, then the login file."""
    env = os.environ if environ is None else environ
    saved: dict[str, object] = {}
    path = login_file(env)
    if path.is_file():
        try:
            saved = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}; run `hookwire login` again") from None
    url = url or env.get("HOOKWIRE_URL") or str(saved.get("url") or "") or DEFAULT_URL
    token = token or env.get("HOOKWIRE_TOKEN") or str(saved.get("token") or "")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"server URL {url!r} must start with http:// or https:// (--url or HOOKWIRE_URL)")
    if not token:
        raise ConfigError(
            "no token: run `hookwire login`, or set HOOKWIRE_TOKEN (and HOOKWIRE_URL), or pass --token"
        )
    return ServerAccess(url.rstrip("/"), token)
