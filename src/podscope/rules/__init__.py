"""podscope.rules: pure data and rules for ephemeral debug containers.

Nothing here performs I/O or imports the Kubernetes client: Pods and containers are plain
dicts in the API's JSON shape (camelCase), so every rule can be unit-tested exhaustively.
Import the submodules directly (``from podscope.rules.container import DebugSpec``).
"""
