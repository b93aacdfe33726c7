"""The library's error family: every error it raises on purpose is a :class:`RecommendersKitError`.

Each error also keeps the built-in base a caller would have caught before (a bad argument is
still a ``ValueError``, a missing blob still a ``FileNotFoundError``), so ``except
RecommendersKitError`` catches what the library meant to say and nothing that escaped it by
accident, and no existing ``except ValueError`` breaks.

=================================  =====================================  ====================
error                              raised for                             built-in base(s)
=================================  =====================================  ====================
:class:`InputError`                a bad argument, column, file or row    ``ValueError``
:class:`InputTypeError`            an argument of the wrong type          ``TypeError``
:class:`NotFittedError`            a model used before ``fit``/``load``   ``RuntimeError``
:class:`ModelFormatError`          a saved model that is incomplete,      ``ValueError``
                                   damaged or of a newer format
:class:`MissingResourceError`      a file, blob, folder, container or     ``FileNotFoundError``,
                                   database that does not exist           ``LookupError``
:class:`AlreadyExistsError`        a destination that exists (pass        ``FileExistsError``
                                   ``overwrite=True``)
:class:`AccessDeniedError`         credentials a store refused            ``PermissionError``
:class:`StorageError`              a write or move that did not happen    ``OSError``
:class:`StoreUnavailableError`     a top-k store that does not answer     ``RuntimeError``
:class:`SetupError`                what the library needs around it is    ``RuntimeError``
                                   missing (a Spark session, a setting)
:class:`JobFailedError`            a job the library ran gave no result   ``RuntimeError``
                                   (a sweep, a build, a server start)
=================================  =====================================  ====================

The rest live beside the code that raises them and derive from these:
``datasets.download.DownloadError`` (and ``ChecksumError``, ``OfflineError``),
``datasets.download.ArchiveError``, ``storage.blob.BlobIntegrityError`` and
``serving.schema.RequestError`` (a refused scoring request, with its HTTP status).

Errors raised by other libraries (pyspark, lightgbm, the Azure SDKs) pass through unchanged
where the library cannot say more than they do.

>>> issubclass(InputError, ValueError) and issubclass(InputError, RecommendersKitError)
True
"""

from __future__ import annotations


class RecommendersKitError(Exception):
    """Base of every error the library raises on purpose; its message is meant for a person."""


class InputError(RecommendersKitError, ValueError):
    """A bad argument, column, file or row; the message names it."""


class InputTypeError(RecommendersKitError, TypeError):
    """An argument of the wrong type; the message names the parameter and the type given."""


class NotFittedError(RecommendersKitError, RuntimeError):
    """A model was used before ``fit`` or ``load``."""


class ModelFormatError(RecommendersKitError, ValueError):
    """A saved model that cannot be read: incomplete, damaged, or of a newer format."""


class MissingResourceError(RecommendersKitError, FileNotFoundError, LookupError):
    """A storage resource (blob, folder, container, database) that does not exist."""


class StoreUnavailableError(RecommendersKitError, RuntimeError):
    """A store of top-k lists did not answer (down, unreachable, timed out, or gone)."""


class AlreadyExistsError(RecommendersKitError, FileExistsError):
    """A destination that already exists; pass ``overwrite=True`` to replace it."""


class AccessDeniedError(RecommendersKitError, PermissionError):
    """A store refused the credentials, or their permissions."""


class StorageError(RecommendersKitError, OSError):
    """A write, copy or move that did not happen (nothing half-written was left)."""


class SetupError(RecommendersKitError, RuntimeError):
    """Something the library needs around it is missing: a Spark session, a setting."""


class JobFailedError(RecommendersKitError, RuntimeError):
    """A job the library ran gave no result: a sweep without a completed trial, a wheel build,
    a server that did not start."""
