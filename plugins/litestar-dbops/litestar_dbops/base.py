"""``dbops.base`` under the plugin's name: ``from litestar_dbops import base``, as the seed writes it.

Everything lives in ``dbops.base`` (it knows nothing of Litestar); this module only re-exports it.
"""

from dbops.base import *  # noqa: F403
from dbops.base import __all__ as __all__
