from . import k2k_connection
