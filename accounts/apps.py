from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from accounts import receivers  # noqa: F401  (audit of login/logout/lockout)

        # last_login lives in auth_user (replicated): a read-only node must not write it.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(receivers.update_last_login_where_writable,
                               dispatch_uid="update_last_login_where_writable")
