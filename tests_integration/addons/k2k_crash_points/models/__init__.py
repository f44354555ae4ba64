from . import k2k_transport_http
