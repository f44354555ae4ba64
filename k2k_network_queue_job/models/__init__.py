from . import k2k_connection
from . import k2k_message
