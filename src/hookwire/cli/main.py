"""`hookwire`: serve, worker, migrate, token.

Every flag mirrors a HOOKWIRE_* environment variable; precedence is
defaults < --config TOML < environment < flags.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from hookwire import __version__
from hookwire.errors import ConfigError, StoreError
from hookwire.settings import Settings, load_settings
from hookwire.store.database import WakeupTurn

if TYPE_CHECKING:
    from hookwire.automations import Automation


def _automations(config: Path | None) -> tuple[Automation, ...]:
    """The automations declared in the --config file, checked now (exit 2 with the reason)."""
    if config is None:
        return ()
    from hookwire.automations import load_automations

    try:
        return load_automations(config)
    except ConfigError as exc:
        click.echo(f"hookwire: {exc}", err=True)
        sys.exit(2)


def _settings(config: Path | None, **flags: Any) -> Settings:
    from hookwire.cli.runtime import check_database_location

    try:
        settings = load_settings(config_file=config, flags=flags)
        check_database_location(settings)
        return settings
    except ConfigError as exc:
        click.echo(f"hookwire: {exc}", err=True)
        sys.exit(2)


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - Windows
        pass
    try:
        asyncio.run(main())
    except (ConfigError, StoreError) as exc:
        click.echo(f"hookwire: {exc}", err=True)
        sys.exit(2)


def _logging(settings: Settings) -> None:
    from hookwire.cli.log_format import configure_logging

    configure_logging(settings.log_level, settings.log_format)


config_option = click.option(
    "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML settings file"
)
json_option = click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
database_option = click.option(
    "--database-url", help="HOOKWIRE_DATABASE_URL: sqlite:///PATH or postgresql://..."
)


@click.group()
@click.version_option(__version__, prog_name="hookwire")
def main() -> None:
    """hookwire: self-hosted webhook infrastructure that speaks the Svix API."""


@main.command()
@config_option
@database_option
@click.option("--host", help="HOOKWIRE_HOST (default 127.0.0.1)")
@click.option("--port", type=int, help="HOOKWIRE_PORT (default 8040)")
@click.option(
    "--workers/--no-workers", default=None, help="run delivery workers in this process (default on)"
)
@click.option(
    "--processes",
    type=int,
    help="HOOKWIRE_PROCESSES: processes to run, API and workers apart (default: one per CPU; "
    "1 = all in one process)",
)
@click.option(
    "--allow-private-targets/--no-allow-private-targets",
    default=None,
    help="HOOKWIRE_ALLOW_PRIVATE_TARGETS: allow delivery to loopback/private addresses",
)
@click.option("--json", "as_json", is_flag=True, help="log JSON lines (same as HOOKWIRE_LOG_FORMAT=json)")
def serve(config: Path | None, as_json: bool, **flags: Any) -> None:
    """Run the API and the delivery workers (migrates the database first)."""
    from hookwire.cli.supervisor import process_count

    settings = _settings(config, log_format="json" if as_json else None, **flags)
    automations = _automations(config)
    _logging(settings)
    count = process_count(settings)
    if count > 1:  # the supervisor imports no web framework: its children do
        from hookwire.cli.supervisor import supervise

        _run(lambda: supervise(settings, count, config))
    else:
        from hookwire.cli.serve import run_server

        _run(lambda: run_server(settings, automations))


def _wakeup_turn(value: str) -> WakeupTurn:
    """`--turn SLOT/WORKERS`, e.g. 1/2, or a usage error naming the form."""
    slot, _, workers = value.partition("/")
    if not (slot.isdigit() and workers.isdigit() and int(slot) < int(workers)):
        raise click.BadParameter(f"{value!r}: expected SLOT/WORKERS with SLOT < WORKERS, e.g. 1/2")
    return WakeupTurn(int(slot), int(workers))


@main.command("_child", hidden=True)
@click.argument("role", type=click.Choice(["api", "worker"]))
@click.option("--parent-pid", type=int, required=True)
@click.option("--listen-fd", type=int, required=True)
@click.option("--event-hub")
@click.option(
    "--turn",
    default="0/1",
    callback=lambda _ctx, _param, value: _wakeup_turn(value),
    help="a worker's turn among the workers: SLOT/WORKERS",
)
@config_option
def child(
    role: str, parent_pid: int, listen_fd: int, event_hub: str | None, turn: WakeupTurn, config: Path | None
) -> None:
    """One child of a `hookwire serve` supervisor (started by it, not by hand)."""
    import os

    from hookwire.cli.serve import run_server, run_worker
    from hookwire.cli.supervisor import decode_settings, die_with_parent

    die_with_parent(parent_pid)
    settings = decode_settings(os.environ)
    automations = _automations(config)
    _logging(settings)
    if role == "api":
        api = settings.with_overrides(workers=False)
        _run(lambda: run_server(api, automations, listen_fd=listen_fd, event_hub=event_hub))
    else:
        os.close(listen_fd)  # only the API accepts connections
        _run(lambda: run_worker(settings, automations, event_hub=event_hub, migrate=False, turn=turn))


@main.command()
@config_option
@database_option
@click.option(
    "--worker-concurrency",
    "--concurrency",
    "worker_concurrency",
    type=int,
    help="HOOKWIRE_WORKER_CONCURRENCY",
)
@click.option("--burst", is_flag=True, help="deliver everything that is due, then exit")
@click.option("--json", "as_json", is_flag=True, help="log JSON lines (same as HOOKWIRE_LOG_FORMAT=json)")
def worker(config: Path | None, burst: bool, as_json: bool, **flags: Any) -> None:
    """Run delivery workers only (scale out on PostgreSQL)."""
    from hookwire.cli.serve import run_worker

    settings = _settings(config, log_format="json" if as_json else None, **flags)
    automations = _automations(config)
    _logging(settings)
    _run(lambda: run_worker(settings, automations, burst=burst))


@main.command()
@config_option
@database_option
@json_option
def migrate(config: Path | None, as_json: bool, **flags: Any) -> None:
    """Create or upgrade the database schema."""
    from hookwire.store import open_database

    settings = _settings(config, **flags)

    async def go() -> None:
        db = await open_database(settings.database_url)
        try:
            applied = await db.migrate()
        finally:
            await db.close()
        if as_json:
            click.echo(orjson.dumps({"applied": applied}))
        else:
            click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")

    _run(go)


@main.command()
@config_option
@database_option
@json_option
def token(config: Path | None, as_json: bool, **flags: Any) -> None:
    """Print the admin API token (generated on first start)."""
    from hookwire.cli.runtime import open_runtime, require_existing_database

    settings = _settings(config, **flags)

    async def go() -> None:
        require_existing_database(settings)  # never create an empty database just to print a token
        opened = await open_runtime(settings, migrate=False)
        try:
            api_token = opened.rt.settings.api_token
            click.echo(orjson.dumps({"token": api_token}) if as_json else api_token)
        finally:
            await opened.rt.db.close()

    _run(go)


def _add_client_commands() -> None:
    """The commands that talk to a running server, each in its own module."""
    from hookwire.cli.listen import listen
    from hookwire.cli.login import login
    from hookwire.cli.recovery import recover, replay, resend
    from hookwire.cli.tail import tail
    from hookwire.cli.trigger import trigger
    from hookwire.cli.verify import verify

    for command in (listen, login, trigger, tail, resend, recover, replay, verify):
        main.add_command(command)


_add_client_commands()


def install_stop_handlers(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
