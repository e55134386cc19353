"""Aider: the repository's `.aider.conf.yml` (`model`, `weak-model`, `editor-model`).

From Aider's public documentation, not run (docs/agents/aider.md). Aider calls models through
LiteLLM: `openai/<id>` goes to `{openai-api-base}/chat/completions` with `<id>` as the model,
`anthropic/<id>` to Anthropic's Messages API; answers are streamed unless `stream: false`.
"""

from __future__ import annotations

from pathlib import Path

from routing_guard.agents.common import base_url, joined, load, text
from routing_guard.agents.model import Agent, Discovery, SecretSite, Setting
from routing_guard.agents.reading import parse_yaml_mapping
from routing_guard.config import Api

AGENT: Agent = "aider"
CONFIG = ".aider.conf.yml"
MODEL_KEYS = (
    ("model", "main chat and edits"),
    ("weak-model", "commit messages and chat-history summaries"),
    ("editor-model", "edits in architect mode"),
)
SECRET_KEYS = ("openai-api-key", "anthropic-api-key")
PREFIXES: dict[str, Api] = {"openai": "openai-chat", "anthropic": "anthropic-messages"}


def _protocol(value: str) -> tuple[str, Api | None]:
    """The ID LiteLLM sends upstream and the protocol, from Aider's `provider/model` value."""
    provider, slash, model = value.partition("/")
    if slash and provider in PREFIXES:
        return model, PREFIXES[provider]
    if value.startswith(("gpt-", "o1", "o3", "o4")):
        return value, "openai-chat"
    if value.startswith("claude-"):
        return value, "anthropic-messages"
    return value, None


def discover(root: Path) -> Discovery:
    found = Discovery()
    if not ((root / CONFIG).exists() or (root / CONFIG).is_symlink()):
        return found
    doc = load(root, CONFIG, AGENT, parse_yaml_mapping, found)
    if doc is None:
        return found
    base = text(doc.data, "openai-api-base")
    if base is not None:
        base = base_url(found, AGENT, CONFIG, doc.line("openai-api-base"), "openai-api-base", base)
    stream = doc.data.get("stream", True) is not False
    for key, task in MODEL_KEYS:
        value = text(doc.data, key)
        if value is None:
            continue
        resolved, api = _protocol(value.strip())
        openai_base = base if api == "openai-chat" else None
        found.settings.append(
            Setting(
                agent=AGENT,
                file=CONFIG,
                line=doc.line(key),
                setting=key,
                value=value,
                resolved=resolved,
                api=api,
                stream=stream if api else None,
                base_url=openai_base,
                endpoint=joined(openai_base, "/chat/completions") if openai_base else None,
                base_url_file=CONFIG if openai_base else "",
                base_url_line=doc.line("openai-api-base") if openai_base else 0,
                task=task,
            )
        )
    for key in SECRET_KEYS:
        value = text(doc.data, key)
        if value is not None:
            found.secrets.append(SecretSite(AGENT, CONFIG, doc.line(key), key, value))
    api_keys = doc.data.get("api-key")
    for entry in api_keys if isinstance(api_keys, list) else [api_keys]:
        if isinstance(entry, str) and "=" in entry:
            found.secrets.append(
                SecretSite(AGENT, CONFIG, doc.line("api-key"), "api-key", entry.partition("=")[2])
            )
    return found
