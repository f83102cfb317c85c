"""spine-audit: audit claims and EHR extracts against the BMJ 2025 guideline on interventional
procedures for chronic non-cancer spine pain."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spine-audit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
