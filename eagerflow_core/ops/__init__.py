"""Every op eagerflow defines, one module per family. Importing this registers them all."""

from . import (comparison, creation, elementwise, fft, indexing, linalg,  # noqa: F401
               linalg_decomp, linalg_solve, manipulation, nn_conv, nn_pool, searching, sets,
               sorting, special, statistical, transfer, utility)
from . import operators  # noqa: F401  (attaches +, -, @, ... to Tensor)
from . import tf_indexing, tf_segment  # noqa: F401  (TensorFlow's gather/scatter/segment ops)
from .comparison import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .manipulation import *  # noqa: F401,F403
from .searching import *  # noqa: F401,F403
from .sets import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .statistical import *  # noqa: F401,F403
from .utility import *  # noqa: F401,F403
from .tf_indexing import *  # noqa: F401,F403
from .tf_segment import *  # noqa: F401,F403

__all__ = (comparison.__all__ + creation.__all__ + elementwise.__all__ + indexing.__all__
           + linalg.__all__ + manipulation.__all__ + searching.__all__ + sets.__all__
           + sorting.__all__ + special.__all__ + statistical.__all__ + utility.__all__)
__all__ += tf_indexing.__all__ + tf_segment.__all__
