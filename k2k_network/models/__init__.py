from . import res_company
from . import res_config_settings
from . import k2k_connection
from . import k2k_message
from . import purchase_order
from . import sale_order
from . import sale_order_line
from . import account_move
