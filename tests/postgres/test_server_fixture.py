"""The throwaway PostgreSQL server of tests/postgres_server.py works: a database per test."""

from __future__ import annotations

import psycopg2


def test_each_test_gets_its_own_empty_database(postgres_server, postgres_dsn: str) -> None:
    other = postgres_server.create_database()
    assert other != postgres_dsn
    with psycopg2.connect(postgres_dsn, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version_num')::int, current_database()")
        version, name = cur.fetchone()
        cur.execute("CREATE TABLE t (x int)")
    assert version >= 150000
    with psycopg2.connect(other, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'")
        assert cur.fetchone() == (0,)
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] != name
