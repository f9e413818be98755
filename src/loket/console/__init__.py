"""The staff console: server-rendered pages under /console (shell, sign-in, inbox, dashboard).

Other packages add pages without editing this one: see `loket.console.pages`.
"""

from __future__ import annotations
