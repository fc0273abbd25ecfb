"""The version of IMC Broker, kept apart so that modules that record it (the run history,
replays) need not import the package face."""

__version__ = "0.1.0"
