"""``replenish customer import``: register every customer of a CSV file, or none.

The file is read (UTF-8, with or without a BOM) and every row checked before anything
is written; each problem is reported as ``line N: column: problem`` and the import then
writes nothing. ``--dry-run`` checks the whole file and rolls back. The columns are
those of ``replenish customer add`` (see docs/customers.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from replenish.cli.common import ShopOption, current_shop, database, fail, settings
from replenish.db.queries.registration import (
    CustomerImportError,
    import_customers,
    read_customers_csv,
)


def import_(
    file: Annotated[Path, typer.Argument(help="CSV file, UTF-8 (with or without BOM), first line the column names (see docs/customers.md).", metavar="FILE.csv", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report, but write nothing.")] = False,
    shop_id: ShopOption = None,
) -> None:
    """Import customers from a CSV file: every row, or none if any row has a problem.

    Every bad row is reported as `line N: column: problem`, and nothing is written until
    the whole file is right.

    Examples:

      replenish customer import customers.csv --dry-run

      replenish customer import customers.csv
    """
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except UnicodeDecodeError as error:
        fail(f"{file} is not UTF-8 text (byte {error.start}); save it as 'CSV UTF-8' and try again")
    except OSError as error:
        fail(f"{file}: cannot read it ({error.strerror})")
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        try:
            rows = read_customers_csv(text)
            if not rows:
                fail(f"{file} has no customer rows under its header line")
            imported = import_customers(session=session, shop=shop, rows=rows,
                                        now=datetime.now(UTC), settings=cfg)
        except CustomerImportError as error:
            for line, field, message in error.problems:
                typer.echo(f"line {line}: {field}: {message}", err=True)
            bad_rows = len({line for line, _, _ in error.problems})
            fail(f"{len(error.problems)} problem(s) in {bad_rows} row(s) of {file}; "
                 "nothing was imported. Fix them and run the import again")
        if dry_run:
            session.rollback()
    if dry_run:
        typer.echo(f"dry run: all {len(imported)} rows of {file} can be imported; nothing was written")
    else:
        typer.echo(f"imported {len(imported)} customers from {file}")
