from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password

from ha.router import is_read_only_node


class NodeModelBackend(ModelBackend):
    """Django's backend, except that on a read-only node a login never writes: Django
    would re-hash an old-format password into auth_user (a replicated table)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not is_read_only_node():
            return super().authenticate(request, username=username, password=password,
                                        **kwargs)
        if username is None:
            username = kwargs.get(self.UserModel.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = self.UserModel._default_manager.get_by_natural_key(username)
        except self.UserModel.DoesNotExist:
            self.UserModel().set_password(password)  # same time as a real check
            return None
        if check_password(password, user.password) and self.user_can_authenticate(user):
            return user
        return None
