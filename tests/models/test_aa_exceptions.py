"""The exceptions Advanced Alchemy apps import and raise: names, hierarchy, ``detail``, the renamed
``ConnectionError``, and what the repository raises for several matches and for a wrong setup."""

from __future__ import annotations

import builtins

import pytest

import dbops.errors
import dbops.exceptions
from dbops import repository, service
from dbops.errors import (
    ConfigError,
    DatabaseConnectionError,
    DbopsError,
    ImproperConfigurationError,
    MultipleResultsFoundError,
    NotFoundError,
    RepositoryError,
)
from dbops.filters import SearchFilter
from tests.models.harness import Context, run
from tests.models.models import TABLES, RtAuthorModel


def test_several_matches_are_a_multiple_results_found_error(db, is_async):
    async def body(ctx: Context) -> None:
        repo = ctx.repo(RtAuthorModel)
        await repo.add_many([RtAuthorModel(name="Ann"), RtAuthorModel(name="Anna")])
        for method in (repo.get_one, repo.get_one_or_none):
            with pytest.raises(MultipleResultsFoundError, match="more than one RtAuthorModel") as raised:
                await method(SearchFilter("name", "Ann"))
            assert isinstance(raised.value, RepositoryError)  # code catching RepositoryError still does
            assert raised.value.model == "RtAuthorModel"
        assert (await repo.get_one(name="Ann")).name == "Ann"

    run(db, is_async, TABLES, body)


def test_a_wrong_setup_is_an_improper_configuration_error():
    class NoModel(repository.SQLAlchemySyncRepository[RtAuthorModel]):
        pass

    class NoRepository(service.SQLAlchemyAsyncRepositoryService[RtAuthorModel]):
        pass

    with pytest.raises(ImproperConfigurationError, match="NoModel needs a model"):
        NoModel(session=None)  # type: ignore[arg-type]
    with pytest.raises(ImproperConfigurationError, match="NoRepository needs repository_type"):
        NoRepository(None)  # type: ignore[arg-type]
    error = ImproperConfigurationError("x")
    assert isinstance(error, RepositoryError) and isinstance(error, ConfigError)
    assert error.exit_code == 2


def test_dbops_exceptions_holds_the_same_classes_as_dbops_errors():
    for name in dbops.exceptions.__all__:
        if name != "wrap_sqlalchemy_exception":
            assert getattr(dbops.exceptions, name) is getattr(dbops.errors, name), name
    assert dbops.exceptions.wrap_sqlalchemy_exception is repository.wrap_sqlalchemy_exception
    assert issubclass(dbops.exceptions.MultipleResultsFoundError, dbops.exceptions.RepositoryError)
    assert issubclass(dbops.exceptions.DuplicateKeyError, dbops.exceptions.IntegrityError)


def test_detail_is_the_message_as_in_advanced_alchemy():
    raised = NotFoundError(detail="no such author")
    assert (str(raised), raised.detail, raised.message) == ("no such author", "no such author", "no such author")
    assert RepositoryError("plain").detail == "plain"
    assert DbopsError(detail="postgresql://me:secret@db/x").detail == "postgresql://me:***@db/x"  # still masked


def test_connection_error_no_longer_shadows_the_builtin():
    assert dbops.errors.ConnectionError is DatabaseConnectionError  # the old name still imports
    assert "ConnectionError" not in dbops.errors.__all__
    assert "DatabaseConnectionError" in dbops.errors.__all__
    namespace: dict[str, object] = {}
    exec("from dbops.errors import *", namespace)
    assert "ConnectionError" not in namespace  # a star import leaves the builtin alone
    assert not issubclass(DatabaseConnectionError, builtins.ConnectionError)
    assert DatabaseConnectionError.exit_code == 2
