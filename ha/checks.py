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
