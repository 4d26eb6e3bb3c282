from django.conf import settings
from django.utils import timezone

from ha.models import Heartbeat, NodeStatus
from ha.router import is_read_only_node


def node(request) -> dict:
    context = {"node_name": settings.NODE_NAME, "node_role": settings.NODE_ROLE,
               "read_only_node": is_read_only_node()}
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
