from django.contrib.auth import get_user_model
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
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user_model().set_password(password)  # same time as a real check
            return None
        if check_password(password, user.password) and self.user_can_authenticate(user):
            return user
        return None
