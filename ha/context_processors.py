from django.conf import settings


def node(request) -> dict:
    return {"node_name": settings.NODE_NAME, "node_role": settings.NODE_ROLE,
            "read_only_node": settings.NODE_ROLE == "secondary"}
