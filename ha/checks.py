from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

ROUTER = "ha.router.NodeRouter"


@register()
def node_router_is_installed(app_configs, **kwargs) -> list:
    if ROUTER not in settings.DATABASE_ROUTERS or set(settings.DATABASES) != {"default", "local"}:
        return [Error("Strongroom needs its node router and exactly two databases, "
                      "`default` (replicated) and `local` (this node only).",
                      hint=f"DATABASE_ROUTERS must include {ROUTER}.", id="strongroom.E001")]
    return []


def missing_static_manifest() -> Path | None:
    """Without the manifest every page that links a static file is a 500 (the
    manifest storage refuses names it does not know)."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    return None if manifest.is_file() else manifest


@register(deploy=True)
def static_files_are_collected(app_configs, **kwargs) -> list:
    manifest = missing_static_manifest()
    if manifest:
        return [Error(f"Static files are not collected ({manifest} is missing): every "
                      f"page fails with a server error.",
                      hint="Run `manage.py collectstatic --noinput` (after every upgrade too).",
                      id="strongroom.E004")]
    return []
