from . import test_k2k_settings
from . import test_k2k_connection
from . import test_k2k_order
from . import test_k2k_invoice_sync
from . import test_k2k_web_split
from . import test_k2k_web_split_tour
from . import test_k2k_menus
from . import test_k2k_translation_es
