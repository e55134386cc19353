"""What discovery finds in a repository's agent settings, and what the cross-check says about it.

Plain data, no I/O. A `Setting` is one model-selecting key in one committed file; a `Finding` is
something wrong with a setting or a file. Secret values found in agent files travel separately
(`SecretSite.value`) so that they can be handed to the run's Redactor and never into any output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from routing_guard.config import Api

Agent = Literal["codex", "claude-code", "opencode", "copilot", "aider", "gemini-cli"]
FindingKind = Literal[
    "unrouted",  # a routing failure: the agent calls a model no route names
    "unpinned_alias",
    "protocol_differs",
    "gateway_differs",
    "secret_in_config",
    "invalid_file",  # an agent file that cannot be read as the agent would read it
]
FAILURE_KINDS: frozenset[str] = frozenset({"unrouted"})
SECRET_MIN = 8  # redact.MIN_RUN


@dataclass(frozen=True)
class Setting:
    """One model-selecting setting, with what the agent really sends for it."""

    agent: Agent
    file: str  # relative to the repository root, '/'-separated
    line: int
    setting: str  # the key as the agent's docs name it: "model", "env.ANTHROPIC_MODEL", "agent.title.model"
    value: str  # as written
    resolved: str | None  # the model ID the agent sends upstream; None when the agent picks it itself
    api: Api | None  # the protocol the agent uses for it; None where routing-guard cannot speak it
    stream: bool | None
    base_url: str | None = None  # where the settings name the gateway, as written
    endpoint: str | None = None  # the URL the agent posts to, built from base_url as the agent does
    base_url_file: str = ""  # where base_url is set (another file than the setting's, for some agents)
    base_url_line: int = 0
    task: str = ""  # which calls use it, in a few words
    # The variable or key that would pin an alias the agent resolves itself (unpinned_alias), else None.
    unpinned_by: str | None = None
    # Headers the agent sends on this protocol that a probe should also send (Claude Code's betas).
    agent_headers: tuple[tuple[str, str], ...] = ()
    agent_query: str = ""  # query string the agent appends to the protocol's path ("beta=true")


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    agent: Agent
    file: str
    line: int
    setting: str
    message: str

    @property
    def is_failure(self) -> bool:
        return self.kind in FAILURE_KINDS


@dataclass(frozen=True)
class SecretSite:
    """A secret committed in an agent file. `value` is for the Redactor only, never for output."""

    agent: Agent
    file: str
    line: int
    setting: str
    value: str = field(repr=False)


@dataclass
class Discovery:
    """Everything found in one repository's committed agent settings."""

    settings: list[Setting] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # file-level findings (invalid files, secrets...)
    secrets: list[SecretSite] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the agent files that were read

    def extend(self, other: Discovery) -> None:
        self.settings.extend(other.settings)
        self.findings.extend(other.findings)
        self.secrets.extend(other.secrets)
        self.files.extend(other.files)

    def secret_values(self) -> list[str]:
        """The values a Redactor must scrub from every output of the run. Values shorter than a
        scrubbed run (8 characters) are no real key and would mask every occurrence of, say, `1`."""
        return [site.value for site in self.secrets if len(site.value) >= SECRET_MIN]
