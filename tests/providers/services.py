"""Services over the test models, and the users every service test starts from."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from dbops.repository import SQLAlchemyAsyncRepository, SQLAlchemySyncRepository
from dbops.service import SQLAlchemyAsyncRepositoryService, SQLAlchemySyncRepositoryService
from tests.providers.dto_models import AuthorModel, Base, BookModel, UserModel


class UserService(SQLAlchemyAsyncRepositoryService[UserModel]):
    class Repo(SQLAlchemyAsyncRepository[UserModel]):
        model_type = UserModel

    repository_type = Repo


class UserSyncService(SQLAlchemySyncRepositoryService[UserModel]):
    class Repo(SQLAlchemySyncRepository[UserModel]):
        model_type = UserModel

    repository_type = Repo


class AuthorService(SQLAlchemyAsyncRepositoryService[AuthorModel]):
    class Repo(SQLAlchemyAsyncRepository[AuthorModel]):
        model_type = AuthorModel

    repository_type = Repo


T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
USERS = [
    ("Ada", "Lovelace", "countess"),
    ("Alan", "Turing", None),
    ("Grace", "Hopper", "amazing"),
    ("Donald", "Knuth", "tex"),
]


def uid(first_name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_DNS, first_name)


def seed(sync_url: str) -> None:
    """Create the test tables at ``sync_url`` with four users and one author with one book."""
    engine = create_engine(sync_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for days, (first, last, nick) in enumerate(USERS):
            user = UserModel(first_name=first, last_name=last, nickname=nick)
            user.id = uid(first)
            user.created_at = T0 + datetime.timedelta(days=days)
            user.updated_at = T0 + datetime.timedelta(days=10 - days)
            session.add(user)
        author = AuthorModel(id=uid("author"), name="Octavia Butler", dob=None)
        author.books = [BookModel(id=1, title="Kindred", author_id=author.id)]
        session.add(author)
        session.commit()
    engine.dispose()
