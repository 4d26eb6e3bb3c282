"""Token authentication for the JSON API: `Authorization: Bearer <token>`."""
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.services import api_token_user


def json_error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_view(methods: list[str]):
    """Token auth, allowed methods, and every failure as a JSON error (never HTML)."""
    def decorator(view):
        @csrf_exempt  # no cookies are read: the bearer token is the credential
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = json_error(405, f"Method {request.method} is not allowed here.")
                response["Allow"] = ", ".join(methods)
                return response
            scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                return json_error(401, "Send an API token: Authorization: Bearer <token>.")
            user = api_token_user(raw.strip())
            if user is None:
                return json_error(401, "The API token is invalid, expired or revoked.")
            request.user = user
            try:
                return view(request, *args, **kwargs)
            except Http404 as exc:
                return json_error(404, str(exc) or "Not found.")
            except PermissionDenied as exc:
                return json_error(403, str(exc) or "You do not have permission to do this.")
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
                return json_error(400, "The request is not valid.", fields=errors)
        return wrapper
    return decorator

