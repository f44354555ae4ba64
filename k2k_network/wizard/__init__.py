from . import k2k_invitation_wizard
