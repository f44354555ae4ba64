from . import k2k_invitation_wizard
from . import k2k_dispute_wizard
