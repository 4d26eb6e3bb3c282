"""Deployment rules an operator can see with `manage.py check --deploy`."""
import stat

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def master_key_file_is_private(app_configs, **kwargs) -> list:
    path = settings.MASTER_KEY_FILE
    try:
        mode = path.stat().st_mode
    except OSError:
        return [Error(f"The master key file {path} cannot be read.",
                      hint="Set STRONGROOM_MASTER_KEY_FILE; create one with master_key_create.",
                      id="strongroom.E002")]
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [Error(f"The master key file {path} is accessible to group or others "
                      f"(mode {stat.S_IMODE(mode):04o}).", hint=f"chmod 0400 {path}",
                      id="strongroom.E003")]
    return []
