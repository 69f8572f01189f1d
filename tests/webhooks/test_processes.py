"""The commands as real processes: kill -9, two writers, renewals, suspension, `serve`."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from world import REPO, Receiver, World, wait_healthy

from pipelines.clio.client import ClioClient
from pipelines.sandbox.harness import free_port
from pipelines.webhooks import lifecycle, registry, store, subscriptions

PAUSED_APPLIER = Path(__file__).with_name("paused_applier.py")


def make_many_changes(world: World) -> None:
    """Updates, creations and deletions across the four models (dozens of events)."""
    for n in range(1, 12):
        world.edit("contacts", n, name=f"First rename {n}")
    for n in range(1, 6):
        world.edit("bills", n, memo=f"Memo {n}")
    world.edit("matters", 1, description="Matter one")
    for n in range(5):
        world.new_contact(f"New contact {n}")
        world.new_activity(f"New activity {n}")
    world.delete("contacts", 10)
    world.delete("activities", 3)
    for n in range(1, 10):
        world.edit("contacts", n, name=f"Second rename {n}")


def child_pids(pid: int, marker: str) -> list[int]:
    """Child processes of `pid` whose command line contains `marker` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if marker.encode() in cmdline:
                found.append(int(child))
    return found


def queued(world: World) -> int:
    return len(world.inbox_rows("duplicate_of IS NULL"))


def assert_applied_once_each(world: World) -> None:
    """Every received event applied exactly once in the ledger; no row twice anywhere."""
    events = world.inbox_rows("duplicate_of IS NULL")
    assert {e["state"] for e in events} == {"applied"}
    ledger = world.query("SELECT seq FROM clio._webhook_applies ORDER BY seq")
    assert [s for (s,) in ledger] == [e["seq"] for e in events]
    for table in ("bills", "matters", "contacts", "activities", "bills__matters"):
        total, distinct = world.query(
            f'SELECT count(*), count(DISTINCT _dlt_id) FROM clio."{table}"')[0]
        assert total == distinct, f"{table} has duplicate rows"


@pytest.mark.slow
def test_kill_9_of_the_receiver_right_after_its_200_then_the_event_is_applied(world, tmp_path):
    world.sync()
    world.receiver.stop()
    world.receiver = Receiver(world.inbox, tmp_path / "receiver.log").start()
    world.subscribe(("contact",))
    world.edit("contacts", 3, name="Acknowledged, then the receiver died")
    world.flush()  # Clio has its 200
    world.receiver.kill9()
    world.receiver.start()  # restarted on the same port
    world.cli("webhooks", "apply", "--db", str(world.db))
    assert world.query("SELECT name FROM clio.contacts WHERE id = 3") == [
        ("Acknowledged, then the receiver died",)]
    world.assert_truth()
    world.receiver.stop()


def paused_applier(world: World, point: str) -> subprocess.Popen:
    """`webhooks apply` stopped at `point` of its first batch (see `paused_applier.py`)."""
    proc = subprocess.Popen(
        [sys.executable, str(PAUSED_APPLIER), point, "--log-format", "plain", "webhooks",
         "apply", "--db", str(world.db), "--batch-size", "7"],
        cwd=REPO, env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    readable, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().strip() if readable else ""
    if line != f"paused {point}":
        proc.kill()
        raise AssertionError(f"the applier did not pause at {point}: {line}{proc.stdout.read()}")
    return proc


def ledger_seqs(world: World) -> set[int]:
    return {seq for (seq,) in world.query("SELECT seq FROM clio._webhook_applies")}


@pytest.mark.slow
@pytest.mark.parametrize("write_path", ["direct", pytest.param("dlt", marks=pytest.mark.soak)])
def test_an_applier_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    world, write_path, monkeypatch
):
    monkeypatch.setenv("WEBHOOKS__WRITE_PATH", write_path)  # the processes inherit it
    world.sync()
    world.subscribe()
    make_many_changes(world)
    world.flush()
    total = queued(world)
    assert total > 30
    for point in ("claimed", "loaded", "logged"):
        proc = paused_applier(world, point)  # the barrier: it waits at `point`, mid-batch
        claimed = {e["seq"] for e in world.inbox_rows("state = 'claimed'")}
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert len(claimed) == 7  # killed with its batch claimed, not acknowledged
        in_ledger = claimed <= ledger_seqs(world)
        assert in_ledger == (point == "logged"), point  # the kill landed where it was meant
    assert queued(world) == total and world.inbox_rows("state = 'pending'")
    world.cli("webhooks", "apply", "--db", str(world.db))
    world.assert_truth()
    assert_applied_once_each(world)


@pytest.mark.slow
def test_run_and_the_applier_at_the_same_time_both_finish_and_agree_with_clio(world):
    world.sync()
    world.subscribe()
    make_many_changes(world)
    world.flush()
    run = world.popen("run", "--db", str(world.db), "--lock-timeout", "60")
    apply = world.popen("webhooks", "apply", "--db", str(world.db), "--batch-size", "10",
                        "--lock-timeout", "60")
    assert run.wait(timeout=120) == 0, world.log()[-3000:]
    assert apply.wait(timeout=120) == 0, world.log()[-3000:]
    assert "waiting up to 60s" in world.log()  # one of them waited for the other
    world.assert_truth()
    assert_applied_once_each(world)


def _expire_soon(world: World, model: str, days: float) -> str:
    """Make Clio's webhook of `model` expire in `days` (an old subscription); its new expiry."""
    hook = world.remote_hooks()[model]
    with ClioClient(world.settings) as client:
        expires = subscriptions._iso(client.server_time() + timedelta(days=days))
        client.patch(f"webhooks/{hook['id']}.json", json={"data": {"expires_at": expires}})
    return expires


def _days_left(world: World, model: str) -> float:
    hook = world.remote_hooks()[model]
    left = subscriptions._parse(hook["expires_at"]) - world.firm.now()
    return left.total_seconds() / 86400


@pytest.mark.slow
def test_renew_extends_webhooks_before_they_expire_and_run_renews_first(world):
    world.sync()
    world.subscribe()
    ids = {m: h["id"] for m, h in world.remote_hooks().items()}
    _expire_soon(world, "bill", days=2)
    world.cli("webhooks", "renew", "--db", str(world.db), "--no-catchup")
    assert _days_left(world, "bill") > 30.9
    assert {m: h["id"] for m, h in world.remote_hooks().items()} == ids  # extended, same hooks
    # the old deadline passes on Clio's clock: deliveries go on
    with world.firm.lock:
        world.firm.tick(world.firm.now_instant() + 3 * 86400)
    world.edit("bills", 1, memo="Three days later")
    world.flush()
    assert [e["model"] for e in world.inbox_rows()] == ["bill"]
    # `run` renews first when there are subscriptions
    _expire_soon(world, "contact", days=1)
    world.cli("run", "--db", str(world.db))
    assert _days_left(world, "contact") > 30.9


@pytest.mark.slow
def test_a_suspended_webhook_is_recreated_and_its_gap_caught_up(world):
    world.sync()
    world.subscribe()
    old = {m: h["id"] for m, h in world.remote_hooks().items()}
    world.receiver.stop()  # deliveries fail; Clio retries, then suspends the webhooks
    world.edit("contacts", 3, name="Changed while suspended")
    world.new_contact("Created while suspended")
    world.delete("contacts", 11)
    world.edit("bills", 1, memo="Changed while suspended")
    world.flush()
    assert {m: h["status"] for m, h in world.remote_hooks().items()} == {
        "bill": "suspended", "contact": "suspended", "matter": "enabled", "activity": "enabled",
        "task": "enabled", "calendar_entry": "enabled", "communication": "enabled"}
    world.receiver.start()
    world.cli("webhooks", "renew", "--db", str(world.db), "--no-catchup")  # re-creates only
    world.cli("webhooks", "status", "--db", str(world.db), "--offline")
    assert "catch-ups due: 2 gap(s)" in world.log()
    world.cli("webhooks", "renew", "--db", str(world.db))  # runs the due catch-ups
    remote = world.remote_hooks()
    assert {m: h["status"] for m, h in remote.items()} == dict.fromkeys(old, "enabled")
    assert remote["bill"]["id"] not in old.values() and remote["contact"]["id"] not in old.values()
    assert remote["matter"]["id"] == old["matter"]
    conn = store.connect(world.inbox)
    assert lifecycle.due_catchups(conn) == []
    assert len(conn.execute("SELECT * FROM catchups WHERE done_at IS NOT NULL").fetchall()) == 2
    assert {s.model for s in registry.live(conn)} == set(old) and len(registry.live(conn)) == len(old)
    conn.close()
    world.assert_truth()  # the gap (an update, a creation, a deletion) is in the warehouse
    world.edit("contacts", 4, name="Delivered by the new webhook")
    world.flush()
    world.apply()
    world.assert_truth()


@pytest.mark.slow
def test_serve_applies_continuously_restarts_its_applier_and_drains_on_sigterm(world):
    world.sync()
    world.receiver.stop()
    port = free_port()
    serve = world.popen("serve", "--db", str(world.db), "--port", str(port), "--sync-every", "0",
                        "--reconcile-every", "0", "--renew-every", "0", "--apply-interval", "0.1")
    wait_healthy(f"http://127.0.0.1:{port}", serve, world.tmp_path / "commands.log")
    world.cli("webhooks", "subscribe", "--db", str(world.db), "--allow-http",
              "--url", f"http://127.0.0.1:{port}/webhooks/clio")
    world.edit("contacts", 3, name="Applied while serving")
    world.flush()
    deadline = time.monotonic() + 30
    while world.inbox_rows("state != 'applied'"):
        assert time.monotonic() < deadline, world.log()[-3000:]
        time.sleep(0.05)
    (applier,) = child_pids(serve.pid, "--follow")
    os.kill(applier, signal.SIGKILL)  # serve starts another one
    world.edit("contacts", 4, name="Applied by the restarted applier")
    world.flush()
    deadline = time.monotonic() + 30
    while world.inbox_rows("state != 'applied'"):
        assert time.monotonic() < deadline, world.log()[-3000:]
        time.sleep(0.05)
    assert "the applier exited with -9; restarting it" in world.log()
    make_many_changes(world)
    world.flush()
    serve.send_signal(signal.SIGTERM)  # with events still queued
    assert serve.wait(timeout=60) in (0, -signal.SIGTERM), world.log()[-3000:]
    assert "serve stopped" in world.log() and "Traceback" not in world.log()
    world.assert_truth()
    assert_applied_once_each(world)
