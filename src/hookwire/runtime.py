"""The Runtime: what every use-case needs, built once by the CLI and passed down."""

from __future__ import annotations

from dataclasses import dataclass

from hookwire.secretbox import SecretBox
from hookwire.settings import Settings
from hookwire.store import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    box: SecretBox
