from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = _("Content and shares")

    def ready(self):
        from accounts import hooks as accounts_hooks
        from content.services.held import hold_shares_of_member

        # A suspended member's shares on their way out are held (issue 20).
        accounts_hooks.register_member_suspended(hold_shares_of_member)
