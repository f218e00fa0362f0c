"""``dbops.service`` under the plugin's name: ``from litestar_dbops import service``, as the seed writes it.

Everything lives in ``dbops.service`` (it knows nothing of Litestar); this module only re-exports it.
"""

from dbops.service import *  # noqa: F403
from dbops.service import __all__ as __all__
