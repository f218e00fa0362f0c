"""``dbops.repository`` under the plugin's name: ``from litestar_dbops import repository``, as the seed writes it.

Everything lives in ``dbops.repository`` (it knows nothing of Litestar); this module only re-exports it.
"""

from dbops.repository import *  # noqa: F403
from dbops.repository import __all__ as __all__
