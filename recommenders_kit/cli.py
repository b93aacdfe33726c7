"""The ``recommenders-kit`` command: the library's main jobs from a shell.

    recommenders-kit datasets download movielens --size 100k
    recommenders-kit datasets download criteo --size sample

Each subcommand imports its heavy dependencies only when it runs, so ``--help`` is instant.
"""

from __future__ import annotations

import logging
import sys

import click

from recommenders_kit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recommenders-kit")
def main() -> None:
    """recommenders_kit: from raw interactions to a recommender web service."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")


@main.group()
def datasets() -> None:
    """Download and cache the public data sets."""


@datasets.group("download")
def download_group() -> None:
    """Download a data set into the cache (verified, resumable)."""


def _cache_option(f):
    return click.option(
        "--cache-dir", type=click.Path(file_okay=False), default=None,
        help="Data cache directory (default: $RECOMMENDERS_KIT_CACHE or the user cache).",
    )(f)


def _run_download(fn, size: str, cache_dir: str | None) -> None:
    try:
        paths = fn(size, cache_dir)
    except (ValueError, OSError, RuntimeError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    for path in paths.values() if isinstance(paths, dict) else [paths]:
        click.echo(str(path))


@download_group.command("movielens")
@click.option("--size", default="100k", show_default=True,
              type=click.Choice(["100k", "1m", "10m", "20m", "25m", "32m"]))
@_cache_option
def download_movielens(size: str, cache_dir: str | None) -> None:
    """MovieLens ratings and movies; prints the extracted file paths."""
    from recommenders_kit.datasets import movielens

    _run_download(movielens.download, size, cache_dir)


@download_group.command("criteo")
@click.option("--size", default="sample", show_default=True,
              type=click.Choice(["sample", "full"]))
@_cache_option
def download_criteo(size: str, cache_dir: str | None) -> None:
    """Criteo Display Advertising Challenge logs; prints the extracted file path."""
    from recommenders_kit.datasets import criteo

    _run_download(criteo.download, size, cache_dir)


if __name__ == "__main__":  # pragma: no cover
    main()
