"""Automations: commands an operator declares in the server's TOML config, run once per matching event.

An accepted event that matches an automation (source, event types, JMESPath filter)
becomes a run, queued in the routing transaction. An `AutomationRunner` runs the
command like a CI trigger: argv only (never a shell), the (transformed) event JSON on
stdin, metadata in `HOOKWIRE_*` environment variables, a timeout that kills the whole
process group, a concurrency limit and an optional serialisation key. Each attempt's
exit code and output go to `automation_attempts`; failures are retried like deliveries.

    load_automations(path) -> tuple[Automation, ...]     config.py
    make_automation_hook(automations) -> EventHook       hook.py
    AutomationRunner(rt, automations).run()              runner.py
    run_command(argv, stdin=..., ...) -> CommandResult   process.py
    list_runs(rt, ...), get_run(rt, run_id)              log.py

See docs/automations.md.
"""

from __future__ import annotations

from hookwire.automations.config import Automation, load_automations, parse_automations
from hookwire.automations.hook import make_automation_hook
from hookwire.automations.log import get_run, list_runs
from hookwire.automations.process import CommandResult, run_command
from hookwire.automations.runner import AutomationRunner

__all__ = [
    "Automation",
    "AutomationRunner",
    "CommandResult",
    "get_run",
    "list_runs",
    "load_automations",
    "make_automation_hook",
    "parse_automations",
    "run_command",
]
