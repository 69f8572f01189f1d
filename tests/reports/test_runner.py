"""The model runner: discovery, dependency order, idempotence, errors, missing raw tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.reports.runner import SQL_DIR, ModelBuildError, build_models, discover_models


def write_models(root: Path, files: dict[str, str]) -> Path:
    for name, sql in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    return root


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


class TestOrder:
    def test_models_are_built_after_the_models_they_reference(self, tmp_path, con):
        sql_dir = write_models(
            tmp_path,
            {
                "reports/a_total.sql": "select sum(x) as total from intermediate.z_doubled",
                "intermediate/z_doubled.sql": "select x * 2 as x from staging.m_numbers",
                "staging/m_numbers.sql": "select * from range(4) as t(x)",
            },
        )
        built = build_models(con, sql_dir)
        assert built == ["staging.m_numbers", "intermediate.z_doubled", "reports.a_total"]
        assert con.execute("select total from reports.a_total").fetchone() == (12,)

    def test_the_project_models_reference_only_earlier_layers(self):
        layers = {"staging": 0, "intermediate": 1, "reports": 2}
        for model in discover_models(SQL_DIR):
            for ref in model.refs:
                assert layers[ref.split(".")[0]] <= layers[model.schema], (model.path, ref)

    def test_a_cycle_is_named(self, tmp_path, con):
        sql_dir = write_models(
            tmp_path,
            {
                "reports/a.sql": "select * from reports.b",
                "reports/b.sql": "select * from reports.a",
            },
        )
        with pytest.raises(ModelBuildError, match=r"cycle \(reports\.(a|b) -> reports"):
            build_models(con, sql_dir)

    def test_a_file_with_params_becomes_a_table_macro(self, tmp_path, con):
        sql_dir = write_models(
            tmp_path, {"reports/upto.sql": "-- params: n\nselect * from range(n) as t(x)"}
        )
        build_models(con, sql_dir)
        assert con.execute("select count(*) from reports.upto(5)").fetchone() == (5,)


class TestIdempotence:
    def test_building_twice_changes_nothing(self, tmp_path):
        db = tmp_path / "w.duckdb"
        with duckdb.connect(str(db)) as con:
            first = build_models(con)
            views = con.execute("select schema_name, view_name, sql from duckdb_views() "
                            "where not internal order by all").fetchall()
            second = build_models(con)
            assert first == second
            assert views == con.execute("select schema_name, view_name, sql from duckdb_views() "
                                    "where not internal order by all").fetchall()

    def test_a_view_whose_file_is_gone_is_dropped(self, tmp_path, con):
        sql_dir = write_models(
            tmp_path, {"staging/a.sql": "select 1 as x", "staging/b.sql": "select 2 as x"}
        )
        build_models(con, sql_dir)
        (sql_dir / "staging/b.sql").unlink()
        build_models(con, sql_dir)
        names = con.execute("select view_name from duckdb_views() where schema_name = 'staging'")
        assert names.fetchall() == [("a",)]


class TestNothingFound:
    def test_no_model_file_is_an_error_and_drops_nothing(self, tmp_path, con):
        sql_dir = write_models(tmp_path / "full", {"staging/a.sql": "select 1 as x"})
        build_models(con, sql_dir)
        (tmp_path / "empty" / "staging").mkdir(parents=True)
        with pytest.raises(ModelBuildError, match="No SQL models") as err:
            build_models(con, tmp_path / "empty")
        assert "reinstall" in str(err.value)
        assert con.execute("select x from staging.a").fetchone() == (1,)  # still there

    def test_the_project_models_are_found_wherever_the_package_is(self):
        assert SQL_DIR.is_dir() and (SQL_DIR / "checks").is_dir()
        assert len(discover_models()) > 20


class TestBrokenModel:
    def test_names_the_file_and_the_duckdb_error_and_keeps_the_old_models(self, tmp_path, con):
        sql_dir = write_models(
            tmp_path,
            {
                "staging/good.sql": "select 1 as x",
                "reports/summary.sql": "select x from staging.good",
            },
        )
        build_models(con, sql_dir)
        write_models(sql_dir, {
            "staging/good.sql": "select 2 as x",
            "reports/summary.sql": "select no_such_column from staging.good",
        })
        with pytest.raises(ModelBuildError) as err:
            build_models(con, sql_dir)
        message = str(err.value)
        assert "summary.sql" in message and "reports.summary" in message
        assert "no_such_column" in message  # DuckDB's binder error, verbatim
        assert con.execute("select x from reports.summary").fetchone() == (1,)  # rolled back

    def test_an_unknown_raw_table_is_named(self, tmp_path, con):
        sql_dir = write_models(tmp_path, {"staging/x.sql": "select * from clio.payments"})
        with pytest.raises(ModelBuildError, match=r"x\.sql reads clio\.payments"):
            build_models(con, sql_dir)


class TestRawTables:
    def test_an_empty_warehouse_builds_and_every_report_is_empty(self, tmp_path):
        with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
            built = build_models(con)
            reports = [k for k in built if k.startswith("reports.") and k != "reports.ar_aging_as_of"]
            for key in reports:
                assert con.execute(f"select count(*) from {key}").fetchone() == (0,), key
            assert con.execute(
                "select count(*) from reports.ar_aging_as_of(date '2026-01-01')"
            ).fetchone() == (0,)

    def test_missing_columns_read_as_null_and_mistyped_ones_are_cast(self, tmp_path):
        with duckdb.connect(str(tmp_path / "thin.duckdb")) as con:
            con.execute("create schema clio")
            con.execute("create table clio.bills (id bigint, total double, state varchar)")
            con.execute("insert into clio.bills values (7, 12.345, 'paid')")
            build_models(con)
            row = con.execute(
                "select bill_id, total, state, balance, typeof(total) from staging.bills"
            ).fetchone()
            assert row[:4] == (7, __import__("decimal").Decimal("12.35"), "paid", None)
            assert row[4] == "DECIMAL(18,2)"

    def test_views_follow_a_raw_table_created_after_the_last_build(self, firm_db, tmp_path):
        db = tmp_path / "copy.duckdb"
        shutil.copy(firm_db, db)
        with duckdb.connect(str(db)) as con:
            assert con.execute("select count(*) from staging.interest_charges").fetchone() == (0,)
            con.execute("create table clio.interest_charges (id bigint, total decimal(18,2))")
            con.execute("insert into clio.interest_charges values (1, 5.00)")
            build_models(con)
            assert con.execute("select count(*) from staging.interest_charges").fetchone() == (1,)


class TestGeneratedModels:
    """The wide custom-field tables: generated from the definitions at build time."""

    @staticmethod
    def define(con, *definitions):
        con.execute("create schema if not exists clio")
        con.execute("create table if not exists clio.custom_fields (id bigint, name varchar, "
                    "parent_type varchar, field_type varchar, deleted boolean)")
        con.executemany("insert into clio.custom_fields values (?, ?, ?, ?, ?)", definitions)

    @staticmethod
    def columns(con, table):
        return con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'reports' and table_name = ? order by ordinal_position",
            [table]).fetchall()

    def test_a_warehouse_without_definitions_has_only_the_key_columns(self, tmp_path):
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            built = build_models(con)
            assert {"reports.matter_custom_fields", "reports.contact_custom_fields"} <= set(built)
            assert self.columns(con, "matter_custom_fields") == [("matter_id", "BIGINT")]
            assert self.columns(con, "contact_custom_fields") == [("contact_id", "BIGINT")]

    def test_columns_follow_the_definitions_at_each_build(self, tmp_path):
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            self.define(con, (5, "Referral Source", "Matter", "picklist", False),
                        (6, "Amount Claimed", "Matter", "currency", False),
                        (7, "Birthday", "Contact", "date", False))
            build_models(con)
            assert self.columns(con, "matter_custom_fields") == [
                ("matter_id", "BIGINT"), ("referral_source", "VARCHAR"),
                ("amount_claimed", "DECIMAL(18,2)")]
            assert self.columns(con, "contact_custom_fields") == [
                ("contact_id", "BIGINT"), ("birthday", "DATE")]
            # a field added (its name clashing) and one deleted since: the next build follows
            self.define(con, (9, "Referral  source!", "Matter", "checkbox", False))
            con.execute("update clio.custom_fields set deleted = true where id = 6")
            build_models(con)
            assert self.columns(con, "matter_custom_fields") == [
                ("matter_id", "BIGINT"), ("referral_source", "VARCHAR"),
                ("referral_source_9", "BOOLEAN")]

    def test_a_generated_model_that_fails_names_its_generator_and_changes_nothing(
        self, tmp_path, monkeypatch
    ):
        from pipelines.reports import custom_field_tables

        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            self.define(con, (5, "Court", "Matter", "text_line", False))
            build_models(con)
            monkeypatch.setattr(custom_field_tables, "model_sql",
                                lambda parent_type, definitions: "select no_such_column")
            with pytest.raises(ModelBuildError) as err:
                build_models(con)
            assert "generated by pipelines/reports/custom_field_tables.py" in str(err.value)
            assert "no_such_column" in str(err.value)
            assert self.columns(con, "matter_custom_fields") == [
                ("matter_id", "BIGINT"), ("court", "VARCHAR")]  # rolled back

    def test_only_a_model_set_holding_custom_field_values_gets_them(self, tmp_path, con):
        sql_dir = write_models(tmp_path, {"staging/a.sql": "select 1 as x"})
        assert build_models(con, sql_dir) == ["staging.a"]


class TestColumnNames:
    @pytest.mark.parametrize(("name", "column"), [
        ("Referral Source", "referral_source"),
        ("  Référence (client) ", "reference_client"),
        ("LinkedIn", "linkedin"),
        ("Case No.", "case_no"),
        ("2nd Contact", "field_2nd_contact"),
        ("!!!", "field"),
    ])
    def test_snake_case(self, name, column):
        from pipelines.reports.custom_field_tables import snake_case

        assert snake_case(name) == column

    def test_the_older_definition_keeps_a_clashing_name(self):
        from pipelines.reports.custom_field_tables import Definition, column_names

        definitions = [Definition(40, "Stage", "Matter", "text_line"),
                       Definition(12, "stage", "Matter", "text_line"),
                       Definition(13, "Matter id", "Matter", "numeric"),
                       Definition(14, "x" * 80, "Matter", "url"),
                       Definition(15, "x" * 80, "Matter", "url")]
        assert column_names(definitions, "matter_id") == {
            12: "stage", 13: "matter_id_13", 14: "x" * 63, 15: "x" * 60 + "_15", 40: "stage_40"}
