"""A project in the style of a large Litestar app, not written for dbops (see models.py and migrations/env.py).

Its models sit on their own ``DeclarativeBase`` with their own registry and naming convention, its env.py is
Alembic's stock async/sync template reading ``target_metadata`` from that base, its revisions use a custom
``script.py.mako`` and ``file_template``, its version table has a custom name and ``include_object`` hides a
table the app does not own. Its config passes no ``metadata=``: dbops has to find the models through env.py.
"""
