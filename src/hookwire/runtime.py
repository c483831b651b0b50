"""The Runtime: what every use-case needs, built once by the CLI and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from hookwire.activity import Activity
from hookwire.events import EventChannel
from hookwire.operations.metrics import Metrics
from hookwire.secretbox import SecretBox
from hookwire.settings import Settings
from hookwire.store import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    box: SecretBox
    events: EventChannel = field(default_factory=EventChannel)
    activity: Activity = field(default_factory=Activity)  # the info lines serve/worker print
    metrics: Metrics = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.settings)
