"""routing-guard: prove that an LLM gateway serves each coding-agent task with the model
a routing file names."""

import sys

__version__ = "0.1.0"

# httpx imports its own command-line client (click, rich and pygments: ~75 ms on every start) whenever
# those happen to be installed beside it. routing-guard never runs that client; marking the module
# absent makes httpx take its documented fallback (docs/performance.md).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
