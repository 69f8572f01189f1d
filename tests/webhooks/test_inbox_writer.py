"""The inbox writer thread: group commits, and what it costs the event loop to hear of them."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from pipelines.webhooks import inbox, store
from pipelines.webhooks.inbox_writer import InboxWriter

GROUP = 50


def delivery(record_id: int) -> inbox.Delivery:
    return inbox.Delivery(received_at=1.0, webhook_id=7, model="bill", record_id=record_id,
                          event="updated", etag='"e"', body=b'{"id": %d}' % record_id)


async def append_one_group(writer: InboxWriter, inbox_file: Path) -> tuple[list[int], int, int]:
    """GROUP appends queued while the writer is held, so they commit as one group.

    Returns their sequence numbers, the loop's wake-ups from other threads while they
    were answered, and the events on disk when the first answer arrived.
    """
    loop = asyncio.get_running_loop()
    wakeups = 0
    original = loop.call_soon_threadsafe

    def counting(*args, **kwargs):  # the real method, counted
        nonlocal wakeups
        wakeups += 1
        return original(*args, **kwargs)

    release = threading.Event()
    held = writer.call(lambda conn: release.wait(10))  # the barrier: the writer is busy
    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    try:
        tasks = [asyncio.ensure_future(writer.append(delivery(i))) for i in range(GROUP)]
        await asyncio.sleep(0)  # every append is queued behind the barrier
        release.set()
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        conn = store.connect(inbox_file)
        on_disk = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        conn.close()
        seqs = list(await asyncio.gather(*tasks))
    finally:
        loop.call_soon_threadsafe = original  # type: ignore[method-assign]
    await asyncio.wrap_future(held)
    return seqs, wakeups, on_disk


def test_a_commit_group_wakes_the_event_loop_once(inbox_file: Path) -> None:
    writer = InboxWriter(inbox_file)
    writer.start()
    try:
        seqs, wakeups, on_disk = asyncio.run(append_one_group(writer, inbox_file))
    finally:
        writer.stop()
    assert on_disk == GROUP  # the first 200 could go out only once the whole group is stored
    assert sorted(seqs) == seqs and len(set(seqs)) == GROUP
    assert wakeups == 1, f"{wakeups} wake-ups of the event loop for one group of {GROUP}"
    conn = store.connect(inbox_file)
    assert [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")] == seqs
    conn.close()
