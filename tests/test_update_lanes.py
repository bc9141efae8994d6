"""How updates share the process: one chat in order, chats side by side, fewer during a burst."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.config import load
from bot.updates import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "C", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="hi"))  # type: ignore[arg-type]


async def _peak(processor: PerChatUpdateProcessor, updates: list[Update]) -> tuple[int, list[int]]:
    """Handle `updates`; return how many ran at once at most, and the order they finished in."""
    running = peak = 0
    finished: list[int] = []

    async def handle(update: Update) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)  # a Bot API round trip
        running -= 1
        finished.append(update.update_id)

    await asyncio.gather(*(processor.do_process_update(u, handle(u)) for u in updates))
    return peak, finished


async def test_chats_run_side_by_side_and_one_chat_in_order() -> None:
    processor = PerChatUpdateProcessor(16)
    one_chat = [_update(i, 500) for i in range(5)]
    others = [_update(100 + i, 600 + i) for i in range(8)]
    peak, finished = await _peak(processor, one_chat + others)
    assert peak == 9  # eight other chats and the one chat's first update
    assert [uid for uid in finished if uid < 100] == [0, 1, 2, 3, 4]


async def test_a_burst_steps_handling_down_to_the_configured_figure() -> None:
    updates = [_update(i, 700 + i) for i in range(20)]
    for burst, expected in ((1, 1), (4, 4), (32, 16)):  # never above the normal figure
        processor = PerChatUpdateProcessor(16, burst)
        processor.receiving = lambda: True
        assert (await _peak(processor, updates))[0] == expected
    calm = PerChatUpdateProcessor(16, 1)
    calm.receiving = lambda: False
    assert (await _peak(calm, updates))[0] == 16


def test_the_figures_come_from_the_environment() -> None:
    config = load(
        {
            "CROWDCHECK_HANDLER_CONCURRENCY": "8",
            "CROWDCHECK_BURST_CONCURRENCY": "4",
            "CROWDCHECK_OUTBOX_GROUP_PER_MINUTE": "40",
        }
    )
    assert (config.handler_concurrency, config.burst_concurrency) == (8, 4)
    assert config.outbox_group_per_minute == 40
    assert (load({}).handler_concurrency, load({}).burst_concurrency) == (16, 1)
