"""Markers by folder, so `make unit` can leave out what starts servers or browsers.

tests/unit/ and tests/plugin/ are the inner loop (`make unit`); tests/e2e/ runs the suites end to end
(marker e2e); tests/browser/ drives Chromium (browser); everything else that starts the demo stack, nginx
or Locust carries `servers` (by folder here, or explicitly on the test)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

_BY_FOLDER = {"e2e": "e2e", "browser": "browser", "demo": "servers", "load": "servers"}
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(item.path).relative_to(_HERE).parts
        marker = _BY_FOLDER.get(parts[0]) if len(parts) > 1 else None
        if marker is None and parts[0].startswith("test_demo_"):
            marker = "servers"
        if marker is not None and item.get_closest_marker(marker) is None:
            item.add_marker(marker)
