"""``dbops.filters`` under the plugin's name: ``from litestar_dbops import filters``, as the seed writes it.

Everything lives in ``dbops.filters`` (it knows nothing of Litestar); this module only re-exports it.
"""

from dbops.filters import *  # noqa: F403
from dbops.filters import __all__ as __all__
