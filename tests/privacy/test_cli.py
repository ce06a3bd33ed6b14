from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from tessera.privacy.cli import privacy_cli
from tessera.privacy.demo_people import generate_people
from tessera.privacy.pprl.keys import LinkageKey


def test_kanon_command_writes_a_k_anonymous_table_and_report(
    tmp_path: Path, cases: pd.DataFrame
) -> None:
    cases.head(3000).to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(
        privacy_cli,
        [
            "kanon",
            str(tmp_path / "in.csv"),
            "--quasi",
            "age,citizenship",
            "--k",
            "11",
            "-o",
            str(tmp_path / "out.parquet"),
            "--report",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out.groupby(["age", "citizenship"], dropna=False).size().min() >= 11


def test_encode_and_link_commands_produce_id_pairs(tmp_path: Path) -> None:
    a, b = generate_people(300, seed=5)
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    runner = CliRunner()
    fields = "given_name:name,family_name:name,date_of_birth:date,phone:phone"
    # A fixed key: with a fresh random one, linkage quality (and so this test) would vary by run.
    LinkageKey(bytes(range(32))).save(tmp_path / "k.json")
    for name, extra in (("a", []), ("b", [])):
        result = runner.invoke(
            privacy_cli,
            [
                "encode",
                str(tmp_path / f"{name}.csv"),
                "--key-file",
                str(tmp_path / "k.json"),
                "--fields",
                fields,
                "--id-column",
                "person",
                "-o",
                str(tmp_path / f"e{name}.csv"),
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        privacy_cli,
        [
            "link",
            str(tmp_path / "ea.csv"),
            str(tmp_path / "eb.csv"),
            "-o",
            str(tmp_path / "pairs.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "match keys" in result.output
    assert list(pd.read_csv(tmp_path / "ea.csv").columns) == ["id", "clk", "keys", "layout"]
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    assert (pairs["a_id"] == pairs["b_id"]).mean() > 0.95
    dice = [str(tmp_path / "ea.csv"), str(tmp_path / "eb.csv"), "--method", "dice"]
    result = runner.invoke(privacy_cli, ["link", *dice, "-o", str(tmp_path / "dice.csv")])
    assert result.exit_code == 0 and "comparisons" in result.output, result.output


def test_bad_input_gives_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    result = CliRunner().invoke(
        privacy_cli,
        ["synth", str(tmp_path / "empty.csv"), "--epsilon", "1", "-o", str(tmp_path / "o.csv")],
    )
    assert result.exit_code == 1 and "is empty" in result.output
    result = CliRunner().invoke(
        privacy_cli,
        [
            "encode",
            str(tmp_path / "empty.csv"),
            "--key-file",
            str(tmp_path / "missing.json"),
            "-o",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 1 and "not found" in result.output


def test_help_works_as_module_and_as_group() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "tessera.privacy", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "kanon" in out.stdout and "synth" in out.stdout
    assert "kanon" in CliRunner().invoke(privacy_cli, ["--help"]).output


def test_encode_rejects_an_unknown_field_kind(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("a,b,c\nx,y,z\n")
    result = CliRunner().invoke(
        privacy_cli,
        [
            "encode",
            str(tmp_path / "p.csv"),
            "--key-file",
            str(tmp_path / "k.json"),
            "--new-key",
            "--fields",
            "a:name,b:shoe,c:text",
            "-o",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code != 0 and "bad field 'b:shoe'" in result.output
