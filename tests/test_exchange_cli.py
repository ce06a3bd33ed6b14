"""`tessera import` and `tessera export` in-process: exit codes, reports, files written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tessera.cases.models import Case
from tessera.cli import main
from tessera.tenancy.context import org_context

from .conftest import World

CSV = b"case_ref,prs_FirstName,prs_Gender\r\n1,Ana,Feminine\r\n2,Bea,Purple\r\n"


def test_a_dry_run_with_errors_exits_non_zero_and_writes_the_report(
    world: World, tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_bytes(CSV)
    report = tmp_path / "report.csv"
    result = CliRunner().invoke(
        main, ["import", str(source), "--org", "alpha", "--dry-run", "--report", str(report)]
    )
    assert result.exit_code == 1, result.output
    assert "row 3 prs_Gender" in result.output
    assert "3,prs_Gender,prs_Gender,error" in report.read_text(encoding="utf-8-sig")
    with org_context(world.a):
        assert Case.objects.count() == 0


def test_import_then_export_htcds_and_ctdc(world: World, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_bytes(CSV.replace(b"Purple", b"Masculine"))
    runner = CliRunner()
    imported = runner.invoke(main, ["import", str(source), "--org", "alpha"])
    assert imported.exit_code == 0, imported.output
    assert "done: 2 cases, 2 created" in imported.output
    out = tmp_path / "cases.xlsx"
    refused = runner.invoke(
        main, ["export", "htcds", "--org", "alpha", "--format", "xlsx", "-o", str(out)]
    )
    assert refused.exit_code != 0 and "--purpose" in refused.output
    done = runner.invoke(
        main,
        [
            "export",
            "htcds",
            "--org",
            "alpha",
            "--format",
            "xlsx",
            "-o",
            str(out),
            "--purpose",
            "backup",
        ],
    )
    assert done.exit_code == 0 and out.read_bytes()[:2] == b"PK"
    ctdc = tmp_path / "ctdc.csv"
    done = runner.invoke(main, ["export", "ctdc", "--org", "alpha", "-o", str(ctdc)])
    assert done.exit_code == 0 and "(0 victims)" in done.output
