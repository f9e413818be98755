"""What the conversation view needs from the process: storage, keys, the directory, the core, the
channel (media upload and download) and the policy gate. Built once per application from its Runtime
(`app.state.runtime`), or set directly on `app.state.console_conversation` (tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.complaints.panel import DeskComplaints
from loket.console.complaints_port import ComplaintsPort, NoComplaintsYet, complaints_port
from loket.core.port import CorePort
from loket.db.engine import Database
from loket.outbound.facts import DbPolicyFacts, TemplateCache
from loket.outbound.policy import OutboundPolicy
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory

STATE_KEY = "console_conversation"


@dataclass
class ConversationServices:
    db: Database
    box: SecretBox
    directory: PhoneDirectory
    core: CorePort
    channel: ChannelPort
    clock: Clock = system_clock
    complaints: ComplaintsPort = field(default_factory=complaints_port)
    policy: OutboundPolicy | None = None
    facts: DbPolicyFacts | None = None

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = OutboundPolicy(clock=self.clock)
        if self.facts is None:
            templates = TemplateCache(self.db, clock=self.clock, ttl=5.0)
            self.facts = DbPolicyFacts(self.db, self.directory, clock=self.clock, templates=templates)


def conversation_services(request: Request) -> ConversationServices:
    state = request.app.state
    services = getattr(state, STATE_KEY, None)
    if isinstance(services, ConversationServices):
        return services
    runtime = getattr(state, "runtime", None)
    if runtime is None:
        raise RuntimeError("the console's conversation view needs app.state.runtime or app.state.console_conversation")
    complaints: ComplaintsPort = NoComplaintsYet()
    if getattr(runtime, "complaints", None) is not None:
        complaints = DeskComplaints.from_runtime(runtime)
    services = ConversationServices(
        complaints=complaints,
        db=runtime.db,
        box=runtime.box,
        directory=runtime.directory,
        core=runtime.core,
        channel=runtime.channel,
        clock=runtime.clock,
        policy=runtime.outbound.policy,
    )
    setattr(state, STATE_KEY, services)
    return services
