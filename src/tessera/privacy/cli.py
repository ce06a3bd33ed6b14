"""``tessera privacy …``: k-anonymity, DP statistics, DP synthetic data and PPRL from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

import click

from tessera.privacy.errors import PrivacyError
from tessera.privacy.tables import read_table, write_table


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except PrivacyError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(name="privacy")
def privacy_cli() -> None:
    """Privacy-preserving releases and record linkage."""


@privacy_cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--quasi", required=True, help="Comma-separated quasi-identifier columns.")
@click.option("--sensitive", default="", help="Comma-separated sensitive columns.")
@click.option("--k", "k", type=int, default=11, show_default=True)
@click.option("--l", "l_div", type=int, default=None, help="Distinct l-diversity to enforce.")
@click.option("--t", "t_close", type=float, default=None, help="t-closeness bound to enforce.")
@click.option("--max-suppression", type=float, default=0.05, show_default=True)
@click.option(
    "--hierarchies", type=click.Path(path_type=Path), help="JSON: column → hierarchy config."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.option("--report", type=click.Path(path_type=Path))
def kanon(
    source: Path,
    quasi: str,
    sensitive: str,
    k: int,
    l_div: int | None,
    t_close: float | None,
    max_suppression: float,
    hierarchies: Path | None,
    output: Path,
    report: Path | None,
) -> None:
    """Generalise SOURCE until every class of quasi-identifiers has at least K records."""
    from tessera.privacy.hierarchies import hierarchy_from_config
    from tessera.privacy.kanon import KAnonSpec, k_anonymise

    def action() -> None:
        df = read_table(source)
        config = json.loads(hierarchies.read_text()) if hierarchies else {}
        qis = {
            c: hierarchy_from_config(config[c]) if c in config else None for c in _columns(quasi)
        }
        spec = KAnonSpec(
            qis,
            k=k,
            sensitive=_columns(sensitive),
            l_diversity=l_div,
            t_closeness=t_close,
            max_suppression=max_suppression,
        )
        result = k_anonymise(df, spec)
        write_table(result.data, output)
        if report:
            report.write_text(json.dumps(result.report, indent=1))
        click.echo(
            f"{result.report['records_out']} records written, "
            f"{result.report['records_suppressed']} suppressed; levels {result.levels}"
        )

    _run(action)


@privacy_cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--query", required=True, help="'count' or comma-separated columns for a histogram/cross-tab."
)
@click.option("--epsilon", type=float, required=True)
@click.option("--ledger", type=click.Path(path_type=Path), required=True)
@click.option("--budget", type=float, default=None, help="Total ε when creating a new ledger.")
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(path_type=Path),
    help="JSON: column → categories (default: shipped codebook key sets).",
)
@click.option("--min-count", type=int, default=0, help="Withhold noisy counts below this.")
@click.option("-o", "--output", type=click.Path(path_type=Path))
def stats(
    source: Path,
    query: str,
    epsilon: float,
    ledger: Path,
    budget: float | None,
    keys_file: Path | None,
    min_count: int,
    output: Path | None,
) -> None:
    """Answer a DP count, histogram or cross-tab, charged to the dataset's ledger."""
    from tessera.privacy.dpstats import SmallCountRule, dp_count, dp_crosstab
    from tessera.privacy.keysets import public_keysets
    from tessera.privacy.ledger import BudgetLedger

    def action() -> None:
        df = read_table(source)
        book = BudgetLedger.open(ledger, source.stem, budget)
        if query.strip() == "count":
            click.echo(str(dp_count(df, epsilon=epsilon, ledger=book)))
        else:
            keys = json.loads(keys_file.read_text()) if keys_file else public_keysets()
            table = dp_crosstab(
                df,
                _columns(query),
                keys,
                epsilon=epsilon,
                ledger=book,
                rule=SmallCountRule(min_count),
            )
            frame = table.reset_index()
            write_table(frame, output) if output else click.echo(frame.to_string(index=False))
        click.echo(f"ε spent {book.spent:g} of {book.epsilon_total:g}", err=True)

    _run(action)


@privacy_cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--epsilon", type=float, required=True)
@click.option("--delta", type=float, default=None)
@click.option("--multi-valued", default="", help="Comma-separated columns with ';' multi-values.")
@click.option(
    "--categories-from-data",
    is_flag=True,
    help="Read categories from the data (leaks which occur; default: public key sets).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.option("--report", type=click.Path(path_type=Path))
def synth(
    source: Path,
    epsilon: float,
    delta: float | None,
    multi_valued: str,
    categories_from_data: bool,
    output: Path,
    report: Path | None,
) -> None:
    """Write a DP synthetic version of SOURCE, with a combination-error report."""
    from tessera.privacy.synth import synthesise
    from tessera.privacy.synth_report import combination_report

    def action() -> None:
        df = read_table(source)
        with click.progressbar(length=2, label="fitting and sampling") as bar:
            result = synthesise(
                df,
                epsilon=epsilon,
                delta=delta,
                multi_valued=_columns(multi_valued),
                categories_from_data=categories_from_data,
            )
            bar.update(1)
            write_table(result.data, output)
            if report:
                # The report compares with the sensitive input: it is for the data owner only.
                report.write_text(json.dumps(combination_report(df, result.data), indent=1))
            bar.update(1)
        click.echo(f"{len(result.data)} synthetic rows written")

    _run(action)


@privacy_cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--key-file", type=click.Path(path_type=Path), required=True)
@click.option("--fields", default="", help="column:kind,… (kinds: name, date, phone, text).")
@click.option("--id-column", default=None, help="Opaque record id to carry (never an identifier).")
@click.option(
    "--new-key", is_flag=True, help="Create the key file (a fresh secret for this linkage)."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def encode(
    source: Path,
    key_file: Path,
    fields: str,
    id_column: str | None,
    new_key: bool,
    output: Path,
) -> None:
    """Encode identifiers in SOURCE as hardened keyed CLKs."""
    from tessera.privacy.pprl.encode import encode as encode_table
    from tessera.privacy.pprl.io import to_frame
    from tessera.privacy.pprl.keys import LinkageKey
    from tessera.privacy.pprl.schema import FIELD_KINDS, FieldKind, default_schema

    def action() -> None:
        if new_key:
            if key_file.exists():
                raise PrivacyError(f"key file {key_file} already exists")
            LinkageKey.generate().save(key_file)
        key = LinkageKey.load(key_file)
        df = read_table(source)
        pairs = (
            [f.split(":") for f in _columns(fields)]
            if fields
            else [
                [c, "date" if "birth" in c else "phone" if "phone" in c else "name"]
                for c in df.columns
                if c != id_column
            ]
        )
        kinds: dict[str, FieldKind] = {}
        for pair in pairs:
            if len(pair) != 2 or pair[1] not in FIELD_KINDS:
                raise PrivacyError(
                    f"bad field {':'.join(pair)!r}; use column:kind, kind one of {FIELD_KINDS}"
                )
            kinds[pair[0]] = cast(FieldKind, pair[1])
        schema = default_schema(kinds)
        if id_column and id_column not in df.columns:
            raise PrivacyError(f"unknown id column {id_column!r}")
        encoded = encode_table(df, schema, key, df[id_column] if id_column else None)
        write_table(to_frame(encoded), output)
        click.echo(f"{len(df)} records encoded ({encoded.n_bits} bits)")

    _run(action)


@privacy_cli.command()
@click.argument("first", type=click.Path(path_type=Path))
@click.argument("second", type=click.Path(path_type=Path))
@click.option(
    "--method",
    type=click.Choice(["auto", "keys", "dice"]),
    default="auto",
    help="keys: match keys and Fellegi-Sunter weights; dice: CLK similarity; auto: keys if both files have them.",
)
@click.option("--match-probability", type=float, default=0.5, show_default=True, help="With keys.")
@click.option("--threshold", type=float, default=0.66, show_default=True, help="Dice, with dice.")
@click.option("--blocking", type=click.Choice(["auto", "none", "lsh"]), default="auto")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.option("--clusters", type=click.Path(path_type=Path), help="Also write cluster ids here.")
def link(
    first: Path,
    second: Path,
    method: Literal["auto", "keys", "dice"],
    match_probability: float,
    threshold: float,
    blocking: Literal["auto", "none", "lsh"],
    output: Path,
    clusters: Path | None,
) -> None:
    """Link two encoded files; write matched id pairs (and clusters), never identities."""
    from tessera.privacy.pprl.io import read_encoded
    from tessera.privacy.pprl.link import link as link_tables

    def action() -> None:
        result = link_tables(
            read_encoded(first),
            read_encoded(second),
            threshold,
            blocking=blocking,
            method=method,
            match_probability=match_probability,
        )
        write_table(result.pairs, output)
        if clusters:
            write_table(result.clusters, clusters)
        click.echo(
            f"{len(result.pairs)} pairs from {result.comparisons:,} "
            f"{'candidate pairs (match keys)' if result.method == 'keys' else 'comparisons'}"
        )

    _run(action)
