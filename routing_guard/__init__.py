"""routing-guard: prove that an LLM gateway serves each coding-agent task with the model
a routing file names."""

__version__ = "0.1.0"
