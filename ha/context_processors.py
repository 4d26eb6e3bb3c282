from django.conf import settings
from django.utils import timezone

from ha.models import Heartbeat, NodeStatus
from ha.nodeconfig import read_ha_env
from ha.role import current_role, is_read_only_node


def node(request) -> dict:
    role = current_role()
    context = {"node_name": settings.NODE_NAME, "node_role": role,
               "read_only_node": is_read_only_node()}
    if role == "fenced":
        context["fenced_reason"] = read_ha_env().get("FENCED_REASON", "")
    if context["read_only_node"]:
        # The primary's heartbeat, as replicated here: how fresh our data is.
        beat = Heartbeat.objects.filter(id=1).values_list("beat_at", flat=True).first()
        context["data_as_of"] = beat
        context["data_lag_seconds"] = (timezone.now() - beat).total_seconds() if beat else None
        # Said on every page: the banner must not only show the data's age when the
        # primary is gone.
        status = NodeStatus.objects.filter(id=1, ha_status="failed").values_list(
            "ha_reason", flat=True).first()
        context["ha_failed_reason"] = status
    return context
