"""`gentool new plugin`: write a complete, installable plugin package from the plain-text templates beside this file.

Importing this package imports no torch (it runs inside `gentool --help`).
"""

from __future__ import annotations

from gentool.scaffold.plugin import KINDS, PluginNames, names_for, write_plugin

__all__ = ["KINDS", "PluginNames", "names_for", "write_plugin"]
