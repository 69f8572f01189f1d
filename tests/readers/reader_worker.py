"""A reader for the tests, as a process: it opens the warehouse through `pipelines.readers`
and answers one JSON line per command read on stdin.

    state    the fingerprint seen by the connection it holds (opened at start)
    reopen   close that connection, open a new one, its fingerprint
    latest   the fingerprint through `read_sql` (the newest published state)
    watch F  `read_sql` in a loop until file F exists: answers "watching" after the first
             read, then every distinct fingerprint seen with the time of each read
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipelines import readers

FINGERPRINT = """
    select (select count(*) from clio.contacts)
           || ' contacts: ' || (select string_agg(name, '|' order by id) from clio.contacts)
           || ' / bills: ' || (select string_agg(id || '=' || state || ':' || balance, '|'
                                                order by id) from clio.bills)
           || ' / loads: ' || (select count(*) from clio._dlt_loads)
"""


def say(value: object) -> None:
    print(json.dumps(value), flush=True)


def main() -> None:
    db = sys.argv[1]
    con = readers.connect(db)
    say(con.execute(FINGERPRINT).fetchone()[0])
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "state":
            say(con.execute(FINGERPRINT).fetchone()[0])
        elif command == "reopen":
            con.close()
            con = readers.connect(db)
            say(con.execute(FINGERPRINT).fetchone()[0])
        elif command == "latest":
            say(readers.read_sql(FINGERPRINT, db=db).iloc[0, 0])
        elif command == "watch":
            say(watch(db, Path(argument)))


def watch(db: str, stop: Path) -> dict[str, list[float]]:
    seen: dict[str, list[float]] = {}
    while True:
        fingerprint = readers.read_sql(FINGERPRINT, db=db).iloc[0, 0]
        seen.setdefault(fingerprint, []).append(time.time())
        if sum(map(len, seen.values())) == 1:
            say("watching")
        if stop.exists():
            return seen


if __name__ == "__main__":
    main()
