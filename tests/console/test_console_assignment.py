"""Automatic round-robin assignment (fairness, presence, limits, teams), taking, manual assignment and
transfer, and that every change is audited; on both databases."""

from __future__ import annotations

from collections import Counter

from console_harness import TENANT_A, TENANT_B, ConsoleWorld
from sqlalchemy import select

from loket.console import assignment
from loket.console.tables import ConsoleTeam, ConsoleTeamMember
from loket.staff.errors import Conflict, InvalidRequest, NotFound
from loket.staff.permissions import Role


async def _agents(world: ConsoleWorld, count: int, *, limit: int = 2, tenant: str = TENANT_A) -> list[str]:
    ids = []
    for index in range(count):
        user_id = await world.add_user(f"agent{index}.{tenant}@bank.example", Role.AGENT, tenant)
        async with world.db.transaction() as session:
            await assignment.set_status(session, tenant, user_id, "available", world.clock.now(), max_concurrent=limit)
        ids.append(user_id)
    return ids


async def _auto(world: ConsoleWorld, tenant: str = TENANT_A) -> list[int]:
    async with world.db.transaction() as session:
        return await assignment.auto_assign_tenant(session, tenant, world.clock.now(), dialect=world.db.dialect)


async def test_round_robin_is_fair_and_respects_each_limit(console_world: ConsoleWorld) -> None:
    agents = await _agents(console_world, 3, limit=2)
    handoffs = [await console_world.handoff(age_minutes=20 - i) for i in range(7)]
    assigned = await _auto(console_world)
    assert assigned == handoffs[:6]  # oldest first; the seventh waits: everyone is at the limit
    owners = [await console_world.assignee(h) for h in handoffs]
    assert Counter(owners[:6]) == {agents[0]: 2, agents[1]: 2, agents[2]: 2}
    assert owners[6] is None
    # round robin: three different agents take the first three
    assert len(set(owners[:3])) == 3


async def test_away_agents_and_other_tenants_get_nothing(console_world: ConsoleWorld) -> None:
    available, away = await _agents(console_world, 2, limit=5)
    async with console_world.db.transaction() as session:
        await assignment.set_status(session, TENANT_A, away, "away", console_world.clock.now())
    other_tenant_agent = (await _agents(console_world, 1, tenant=TENANT_B))[0]
    handoffs = [await console_world.handoff() for _ in range(3)]
    await _auto(console_world)
    assert {await console_world.assignee(h) for h in handoffs} == {available}
    assert other_tenant_agent not in {await console_world.assignee(h) for h in handoffs}


async def test_a_freed_slot_is_filled_and_the_longest_idle_agent_goes_first(console_world: ConsoleWorld) -> None:
    first, second = await _agents(console_world, 2, limit=1)
    one = await console_world.handoff(age_minutes=5)
    await _auto(console_world)
    console_world.clock.advance(60)
    two = await console_world.handoff(age_minutes=1)
    await _auto(console_world)
    assert {await console_world.assignee(one), await console_world.assignee(two)} == {first, second}
    three = await console_world.handoff()
    assert await _auto(console_world) == []  # both at their limit of one
    async with console_world.db.transaction() as session:
        owner_of_one = await console_world.assignee(one)
        from loket.dialogue.tables import Handoff

        row = await session.get(Handoff, one)
        assert row is not None
        row.status = "closed"
    assert await _auto(console_world) == [three]
    assert await console_world.assignee(three) == owner_of_one


async def test_team_queues_go_to_team_members_only(console_world: ConsoleWorld) -> None:
    generalist, specialist = await _agents(console_world, 2, limit=5)
    async with console_world.db.transaction() as session:
        team = ConsoleTeam(
            tenant_id=TENANT_A, name="Kartu", reasons=["card_blocked"], created_at=console_world.clock.now()
        )
        session.add(team)
        await session.flush()
        session.add(ConsoleTeamMember(team_id=team.id, user_id=specialist))
    card = await console_world.handoff(reason="card_blocked", age_minutes=3)
    others = [await console_world.handoff(age_minutes=2), await console_world.handoff(age_minutes=1)]
    await _auto(console_world)
    assert await console_world.assignee(card) == specialist
    # the general queue (no team takes it) is open to everyone available, in round-robin order
    assert {await console_world.assignee(h) for h in others} <= {generalist, specialist}


async def test_take_assign_transfer_and_the_audit_trail(console_world: ConsoleWorld) -> None:
    me = await console_world.add_user("me@bank.example", Role.AGENT)
    colleague, busy = await _agents(console_world, 2, limit=1)
    supervisor = await console_world.add_user("lead@bank.example", Role.SUPERVISOR)
    auditor = await console_world.add_user("audit@bank.example", Role.AUDITOR)
    handoff = await console_world.handoff()
    blocker = await console_world.handoff()
    now = console_world.clock.now()
    async with console_world.db.transaction() as session:
        await assignment.take(session, TENANT_A, handoff, me, now)
        await assignment.assign(session, TENANT_A, blocker, to=busy, actor_id=supervisor, supervisor=True, now=now)
    assert await console_world.assignee(handoff) == me
    async with console_world.db.transaction() as session:
        try:
            await assignment.take(session, TENANT_A, handoff, colleague, now)
        except Conflict:
            pass
        else:
            raise AssertionError("a taken conversation cannot be taken again")
    # an agent transfers only to an available colleague under their limit
    for target, error in ((busy, Conflict), (auditor, InvalidRequest)):
        async with console_world.db.transaction() as session:
            try:
                await assignment.assign(session, TENANT_A, handoff, to=target, actor_id=me, supervisor=False, now=now)
            except error:
                pass
            else:
                raise AssertionError(f"transfer to {target} should have been refused")
    async with console_world.db.transaction() as session:
        await assignment.assign(session, TENANT_A, handoff, to=colleague, actor_id=me, supervisor=False, now=now)
    assert await console_world.assignee(handoff) == colleague
    # the former owner can no longer move it; a supervisor can, regardless of limits
    async with console_world.db.transaction() as session:
        try:
            await assignment.assign(session, TENANT_A, handoff, to=me, actor_id=me, supervisor=False, now=now)
        except NotFound:
            pass
        else:
            raise AssertionError("only the owner or a supervisor moves a conversation")
    async with console_world.db.transaction() as session:
        await assignment.assign(session, TENANT_A, handoff, to=busy, actor_id=supervisor, supervisor=True, now=now)
    assert await console_world.assignee(handoff) == busy
    assert (await console_world.audit_kinds()).count("conversation.assigned") == 4


async def test_another_tenants_handoff_is_not_found(console_world: ConsoleWorld) -> None:
    agent_b = (await _agents(console_world, 1, tenant=TENANT_B))[0]
    handoff_a = await console_world.handoff(TENANT_A)
    async with console_world.db.transaction() as session:
        try:
            await assignment.take(session, TENANT_B, handoff_a, agent_b, console_world.clock.now())
        except NotFound:
            pass
        else:
            raise AssertionError("tenant B must not reach tenant A's handoff")
    assert await console_world.assignee(handoff_a) is None
    async with console_world.db.sessions() as session:
        assert (await session.execute(select(ConsoleTeam))).first() is None
