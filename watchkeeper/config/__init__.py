"""Configuration: Watchkeeper's own TOML settings and the amazon-cloudwatch-agent JSON file."""

from watchkeeper.config._validate import Strict, validate
from watchkeeper.config.settings import Settings, load_settings

__all__ = ["Settings", "Strict", "load_settings", "validate"]
