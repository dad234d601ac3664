from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import checks  # noqa: F401  (registers system checks)
        from accounts.models import ApiToken
        from accounts.permissions import can, everyone_may, require
        from accounts.selectors import membership_for
        from accounts.sso.sessions import remember_sign_in
        from advocacy.tenancy import register_accounts

        # The plumbing (advocacy.tenancy, .viewsets, .schema) imports no app: membership
        # resolution and the permission map reach it through this one registration.
        register_accounts(
            membership_for=membership_for,
            can=can,
            require=require,
            everyone_may=everyone_may,
            api_token_model=ApiToken,
        )
        user_logged_in.connect(remember_sign_in, dispatch_uid="accounts.sso.sessions")
