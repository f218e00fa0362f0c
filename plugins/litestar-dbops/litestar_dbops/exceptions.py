"""``dbops.exceptions`` under the plugin's name: ``from litestar_dbops import exceptions``, as Advanced Alchemy's
Litestar extension offers it. Everything lives in ``dbops.exceptions``; this module only re-exports it.
"""

from dbops.exceptions import *  # noqa: F403
from dbops.exceptions import __all__ as __all__
