from . import test_k2k_settings
from . import test_k2k_connection
