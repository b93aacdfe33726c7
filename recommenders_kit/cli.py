"""The ``recommenders-kit`` command: the library's main jobs from a shell.

    recommenders-kit datasets download movielens --size 100k
    recommenders-kit datasets download criteo --size sample
    recommenders-kit datasets import movielens --size 100k ml-100k.zip   # fetched elsewhere
    recommenders-kit quickstart als --size 100k
    recommenders-kit serve --model-dir models/criteo
    recommenders-kit serve --engine spark --model-dir models/criteo   # Spark Serving
    recommenders-kit tune als --size 100k --trials 20 --register movielens_als
    recommenders-kit mlflow log models/criteo --register criteo_ctr
    recommenders-kit databricks install --cluster-id ID --target /Volumes/main/default/libs

Each subcommand imports its heavy dependencies only when it runs, so ``--help`` is instant.

Every expected failure (bad input, a malformed file, a missing model, a Spark job failed by
a bad row) ends with one ``error: ...`` line on stderr and exit code 1; tracebacks only with
``--debug`` (or ``RECOMMENDERS_KIT_DEBUG=1``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from recommenders_kit import __version__
from recommenders_kit.constants import (
    DEFAULT_K,
    DEFAULT_SEED,
    DEFAULT_SPLIT_RATIO,
    DEFAULT_SPLIT_SEED,
    DEFAULT_VALID_RATIO,
)
from recommenders_kit.datasets.criteo import SIZES as CRITEO_SIZES
from recommenders_kit.datasets.movielens import DEFAULT_SIZE, SIZES
from recommenders_kit.errors import RecommendersKitError
from recommenders_kit.models import RECOMMENDERS
from recommenders_kit.models.als import ENGINE_ALIASES as ALS_ALIASES
from recommenders_kit.models.als import ENGINES as ALS_ENGINES
from recommenders_kit.models.als import engine_name
from recommenders_kit.serving.launch import ENGINES, SPARK_MODES
from recommenders_kit.serving.server import DEFAULT_THREADS
from recommenders_kit.settings import DEBUG_ENV, env_flag
from recommenders_kit.tuning.problems import CRITEO_DATA, CRITEO_TEST_FRACTION, GENERATED_ROWS


class _Main(click.Group):
    """The command group: turns an escaping exception into one ``error:`` line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:
            if ctx.params.get("debug") or env_flag(DEBUG_ENV):
                raise
            click.echo(f"error: {explain(e)}", err=True)
            ctx.exit(1)


def explain(error: BaseException) -> str:
    """One line for a failure, chosen by the error's type: the message of the library's own
    errors (:class:`~recommenders_kit.errors.RecommendersKitError`) and of the built-in ones
    for bad input and files; for a Spark job that a Python error in an executor failed, that
    error's own line (Spark hands it over only as the executor's traceback text); anything
    else, its class and first line."""
    first = next(iter(str(error).strip().splitlines()), "")
    if isinstance(error, RecommendersKitError | ValueError | OSError | TypeError | KeyError):
        return first or type(error).__name__
    remote = _executor_error(error)
    if remote is not None:
        return remote
    if isinstance(error, RuntimeError):
        return first or type(error).__name__
    return f"{type(error).__name__}: {first[:500]} (--debug shows the traceback)"


def _executor_error(error: BaseException) -> str | None:
    """The message of the Python error that failed a Spark job in an executor: pyspark hands
    it over as the executor's traceback text (in a ``PythonException``, or in the Java
    error of an RDD job), whose last ``Name: message`` line is the error raised."""
    spark_errors = tuple(
        getattr(sys.modules.get(module), name, None)
        for module, name in (("pyspark.errors", "PythonException"), ("py4j.protocol", "Py4JError"))
    )
    if not isinstance(error, tuple(e for e in spark_errors if isinstance(e, type))):
        return None  # (no Spark ran if pyspark is not loaded)
    text = str(error)
    start = text.rfind(_TRACEBACK)
    if start < 0:
        return None
    python_part = text[start:].split("\n\tat ")[0]  # Java frames follow the Python traceback
    raised = [m for m in map(_RAISED.match, python_part.splitlines()) if m]
    return raised[-1].group(1) if raised else None


_TRACEBACK = "Traceback (most recent call last):"
_RAISED = re.compile(r"^[\w.]+(?:Error|Exception): (.*)$")


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recommenders-kit")
@click.option("--debug", is_flag=True, help="Show tracebacks of failures.")
def main(debug: bool) -> None:
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
        "--cache-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Data cache directory (default: $RECOMMENDERS_KIT_CACHE or the user cache).",
    )(f)


#: How the quickstart's summary line names each recommender.
_MODEL_LABELS = {"als": "ALS", "ease": "EASE"}

_als_engine_option = click.option(
    "--engine",
    default="spark",
    show_default=True,
    type=click.Choice([*ALS_ENGINES, *ALS_ALIASES]),
    callback=lambda ctx, param, value: engine_name(value),
    help="Spark ALS, or ALS on one machine (pandas, with the implicit package).",
)


def _run_download(fn: Callable[..., Any], size: str, cache_dir: str | None) -> None:
    _show_paths(fn(size, cache_dir))


def _show_paths(paths: Any) -> None:
    for path in paths.values() if isinstance(paths, dict) else [paths]:
        click.echo(str(path))


@download_group.command("movielens")
@click.option(
    "--size",
    default=DEFAULT_SIZE,
    show_default=True,
    type=click.Choice(SIZES),
)
@_cache_option
def download_movielens(size: str, cache_dir: str | None) -> None:
    """MovieLens ratings and movies; prints the extracted file paths."""
    from recommenders_kit.datasets import movielens

    _run_download(movielens.download, size, cache_dir)


@download_group.command("criteo")
@click.option("--size", default=CRITEO_SIZES[0], show_default=True, type=click.Choice(CRITEO_SIZES))
@_cache_option
def download_criteo(size: str, cache_dir: str | None) -> None:
    """Criteo Display Advertising Challenge logs; prints the extracted file path."""
    from recommenders_kit.datasets import criteo

    _run_download(criteo.download, size, cache_dir)


@datasets.group("import")
def import_group() -> None:
    """Install an archive downloaded on another machine (checksum-verified) into the cache."""


@import_group.command("movielens")
@click.option("--size", default=DEFAULT_SIZE, show_default=True, type=click.Choice(SIZES))
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@_cache_option
def import_movielens(size: str, archive: str, cache_dir: str | None) -> None:
    """A MovieLens archive (e.g. ml-100k.zip); prints the extracted file paths."""
    from recommenders_kit.datasets import movielens

    _show_paths(movielens.import_archive(size, archive, cache_dir))


@import_group.command("criteo")
@click.option("--size", default=CRITEO_SIZES[0], show_default=True, type=click.Choice(CRITEO_SIZES))
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@_cache_option
def import_criteo(size: str, archive: str, cache_dir: str | None) -> None:
    """A Criteo archive (e.g. dac_sample.tar.gz); prints the extracted file path."""
    from recommenders_kit.datasets import criteo

    _show_paths(criteo.import_archive(size, archive, cache_dir))


@main.group()
def quickstart() -> None:
    """Run a quickstart scenario end to end and print its metrics."""


@quickstart.command("als")
@click.option(
    "--size",
    default=DEFAULT_SIZE,
    show_default=True,
    type=click.Choice(SIZES),
)
@click.option(
    "--k",
    "k",
    default=DEFAULT_K,
    show_default=True,
    type=click.IntRange(min=1),
    help="Length of each user's recommendation list.",
)
@click.option("--seed", default=DEFAULT_SPLIT_SEED, show_default=True, type=int, help="Split seed.")
@_als_engine_option
@click.option(
    "--model",
    default="als",
    show_default=True,
    type=click.Choice(list(RECOMMENDERS)),
    help="The recommender that makes the top-k lists.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the metrics, timings and parameters to this JSON file.",
)
@_cache_option
def quickstart_als(
    size: str,
    k: int,
    seed: int,
    engine: str,
    model: str,
    json_path: str | None,
    cache_dir: str | None,
) -> None:
    """MovieLens -> split -> ALS (or --model) -> top-k per user -> metrics (uses the data
    cache)."""
    from recommenders_kit.quickstart import ALS_STEPS, als_movielens

    steps = ALS_STEPS[engine]
    with click.progressbar(
        length=len(steps), label="ALS quickstart", show_pos=True, item_show_func=lambda s: s or ""
    ) as bar:

        def on_step(name: str) -> None:
            bar.update(0 if name == steps[0] else 1, name)

        result = als_movielens(
            size,
            k=k,
            seed=seed,
            engine=engine,
            local_cache_path=cache_dir,
            on_step=on_step,
            model=model,
        )
        bar.update(1, "done")
    share = DEFAULT_SPLIT_RATIO
    click.echo(
        f"\nMovieLens {size}, random {share:.0%}/{1 - share:.0%} split (seed {seed}), k={k}, "
        f"{engine} {_MODEL_LABELS.get(model, model)}"
    )
    width = max(map(len, result.metrics))
    for name, value in result.metrics.items():
        click.echo(f"  {name.ljust(width)}  {value:.4f}")
    click.echo("time: " + ", ".join(f"{s} {t:.1f}s" for s, t in result.timings.items()))
    if json_path:
        import json
        from dataclasses import asdict

        with open(json_path, "w") as f:
            json.dump(asdict(result), f, indent=2)


@main.command("serve")
@click.option(
    "--model-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A saved click model (model.txt) or a top-k bundle (meta.json), or a folder holding one.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="azureml",
    show_default=True,
    help="azureml: Azure ML's inference server; spark: SynapseML Spark Serving.",
)
@click.option("--port", default=5001, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 to accept other machines, e.g. in a container).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Request threads per worker (a stalled client holds one). Engine azureml.",
)
@click.option(
    "--mode",
    type=click.Choice(SPARK_MODES),
    default="auto",
    show_default=True,
    help="Spark Serving's streaming mode (auto: continuous for a click model, micro-batch for "
    "top-k lists). Engine spark.",
)
@click.option(
    "--checkpoint",
    type=click.Path(file_okay=False),
    help="The stream's checkpoint folder (default: a temporary one). Engine spark.",
)
def serve(
    model_dir: str,
    engine: str,
    port: int,
    host: str,
    workers: int,
    threads: int,
    mode: str,
    checkpoint: str | None,
) -> None:
    """Serve a model: POST /score. Liveness: GET / (azureml), GET /score (spark)."""
    from recommenders_kit.serving.launch import serve as serve_model

    serve_model(model_dir, engine, port, host, workers, threads, mode, checkpoint)


@main.group()
def databricks() -> None:
    """Set up a Databricks cluster (databricks-sdk; auth from a profile or the environment)."""


@databricks.command("install")
@click.option("--cluster-id", required=True, help="The cluster to install the libraries on.")
@click.option(
    "--target",
    required=True,
    help="Where the wheel goes: /Volumes/catalog/schema/volume[/dir] or dbfs:/... .",
)
@click.option("--profile", default=None, help="A ~/.databrickscfg profile.")
@click.option(
    "--wheel",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A built recommenders_kit wheel (default: build one from the checkout here).",
)
@click.option("--o16n", is_flag=True, help="Also the Azure packages of the o16n notebooks.")
def databricks_install(
    cluster_id: str, target: str, profile: str | None, wheel: str | None, o16n: bool
) -> None:
    """Check the runtime (Spark 3.5, Scala 2.12), upload the wheel, install it and SynapseML."""
    from recommenders_kit.deploy.databricks import install

    done = install(cluster_id, target, profile=profile, wheel=wheel, o16n=o16n)
    click.echo(f"cluster {done.cluster_id} (runtime {done.runtime}): installing")
    for library in done.libraries:
        click.echo("  " + " ".join(f"{kind} {value}" for kind, value in library.items()))


@main.group("mlflow")
def mlflow_group() -> None:
    """The library's saved models as MLflow models (log, register with an alias)."""


@mlflow_group.command("log")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--name", default="model", show_default=True, help="The logged model's name.")
@click.option("--register", default=None, metavar="NAME", help="Also register it as NAME.")
@click.option("--alias", default="champion", show_default=True, help="The alias to set.")
@click.option(
    "--tracking-uri",
    default=None,
    help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db here).",
)
@click.option(
    "--experiment",
    default="recommenders_kit",
    show_default=True,
    help="The MLflow experiment (new: an SQLite store's artefacts go beside its file).",
)
@click.option(
    "--wheel",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Log this recommenders_kit wheel with the model (for Model Serving / Azure ML).",
)
def mlflow_log(
    model_dir: str,
    name: str,
    register: str | None,
    alias: str,
    tracking_uri: str | None,
    experiment: str,
    wheel: str | None,
) -> None:
    """Log a saved click model or pandas ALS folder as an MLflow pyfunc model."""
    from recommenders_kit.deploy import mlflow as rk_mlflow
    from recommenders_kit.tuning.sweep import default_tracking_uri, open_experiment

    model = rk_mlflow.load_saved(model_dir)  # a folder with no model fails before MLflow loads
    tracking_uri = tracking_uri or default_tracking_uri()
    experiment_id = open_experiment(tracking_uri, experiment)

    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_id=experiment_id)
    info = rk_mlflow.log_model(
        model, name, registered_model_name=register, alias=alias or None, wheel=wheel
    )
    click.echo(f"logged {rk_mlflow.model_kind(model)} as {info.model_uri}")
    if register:
        version = info.registered_model_version
        where = f"models:/{register}@{alias}" if alias else f"models:/{register}/{version}"
        click.echo(f"registered {register} version {version}: {where}")


@main.group()
def tune() -> None:
    """Hyperparameter sweeps (Optuna), every trial tracked in MLflow."""


def _sweep_options(f):
    options = [
        click.option("--trials", default=20, show_default=True, type=click.IntRange(min=1)),
        click.option(
            "--timeout",
            default=None,
            type=click.FloatRange(min=1),
            help="Time budget in seconds (default: none).",
        ),
        click.option(
            "--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Sampler seed."
        ),
        click.option(
            "--tracking-uri",
            default=None,
            help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db here).",
        ),
        click.option("--experiment", default="recommenders_kit", show_default=True),
        click.option("--no-prune", is_flag=True, help="Run every trial to the end."),
        click.option(
            "--register",
            default=None,
            metavar="NAME",
            help="Log the best trial's model as an MLflow model and register it as NAME "
            "(alias champion) in the tracking store's registry.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _run_tuning(
    objective: Any, test: Any, space: dict, tags: dict, jobs: int = 1, **opts: Any
) -> None:
    from recommenders_kit.tuning.sweep import run_sweep

    result = run_sweep(
        objective,
        space,
        n_trials=opts["trials"],
        timeout=opts["timeout"],
        seed=opts["seed"],
        tracking_uri=opts["tracking_uri"],
        experiment=opts["experiment"],
        prune=not opts["no_prune"],
        tags=tags,
        n_jobs=jobs,
    )
    states = result.trials.state.value_counts().to_dict()
    click.echo(
        f"\n{len(result.study.trials)} trials {states}; best trials "
        f"({objective.metric} on validation):"
    )
    click.echo(result.top(5).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    test_metrics = objective.evaluate(result.best_model, test)
    click.echo(
        "best trial on the test split: "
        + ", ".join(f"{k} {v:.4f}" for k, v in test_metrics.items())
    )
    click.echo(f"MLflow run {result.run_id} at {result.tracking_uri}")
    if opts["register"]:
        info = result.log_best_model(opts["register"])
        click.echo(
            f"best model logged as {info.model_uri}, registered as {opts['register']}: "
            f"models:/{opts['register']}@champion"
        )


def _tune_recommender(model: str) -> None:
    """Register ``tune <model>``: the recommender's sweep on MovieLens."""

    @tune.command(
        model,
        help=f"Sweep {_MODEL_LABELS.get(model, model)} on MovieLens (nDCG@k on a "
        "validation split carved from train).",
    )
    @click.option("--size", default=DEFAULT_SIZE, show_default=True, type=click.Choice(SIZES))
    @click.option("--k", default=DEFAULT_K, show_default=True, type=click.IntRange(min=1))
    @_als_engine_option
    @_sweep_options
    def command(size: str, k: int, engine: str, **opts: Any) -> None:
        from recommenders_kit.tuning.problems import movielens
        from recommenders_kit.tuning.space import recommender_space

        objective, test = movielens(size, model=model, engine=engine, k=k)
        share = DEFAULT_SPLIT_RATIO
        tags = {
            "dataset": f"movielens-{size}",
            "model": model,
            "engine": engine,
            "split": f"random {share:.0%}/{1 - share:.0%} seed {DEFAULT_SPLIT_SEED}, "
            f"valid {DEFAULT_VALID_RATIO:.0%} of train",
        }
        _run_tuning(objective, test, recommender_space(model, engine), tags, **opts)


for _model in RECOMMENDERS:
    _tune_recommender(_model)


@tune.command("lightgbm")
@click.option("--data", default=CRITEO_DATA[0], show_default=True, type=click.Choice(CRITEO_DATA))
@click.option(
    "--rows",
    default=GENERATED_ROWS,
    show_default=True,
    type=click.IntRange(min=1000),
    help="Generated rows (with --data generated).",
)
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Trials run in parallel (threads).",
)
@_sweep_options
def tune_lightgbm(data: str, rows: int, jobs: int, **opts: Any) -> None:
    """Sweep the LightGBM click model on Criteo (validation AUC, last 20% of train rows)."""
    from recommenders_kit.tuning.problems import criteo_lightgbm
    from recommenders_kit.tuning.space import LIGHTGBM_SPACE

    objective, test = criteo_lightgbm(data, rows)
    held_out, valid = CRITEO_TEST_FRACTION, DEFAULT_VALID_RATIO
    split = f"row order {1 - held_out:.0%}/{held_out:.0%}, valid last {valid:.0%} of train"
    tags = {"dataset": f"criteo-{data}", "split": split}
    _run_tuning(objective, test, LIGHTGBM_SPACE, tags, jobs=jobs, **opts)


if __name__ == "__main__":  # pragma: no cover
    main()
