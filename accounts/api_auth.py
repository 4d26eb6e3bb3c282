"""Token authentication for the JSON API: `Authorization: Bearer <token>`."""
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.services import api_token_user


def json_error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_view(methods: list[str], *, load=None, missing: str = "Not found."):
    """Token auth, allowed methods, and every failure as a JSON error (never HTML).

    For a view about one object, `load(raw_token=…, **URL arguments)` gives (user,
    object) in one statement (issue 12); the view gets the object in place of its URL
    arguments. A refused token is a 401 before the object is looked at, so a 401 is
    the same whether it exists; a None object is a 404 (`missing`)."""
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
            if load is None:
                user = api_token_user(raw.strip())
            else:
                user, found = load(raw_token=raw.strip(), **kwargs)
            if user is None:
                return json_error(401, "The API token is invalid, expired or revoked.")
            request.user = user
            try:
                if load is None:
                    return view(request, *args, **kwargs)
                if found is None:
                    raise Http404(missing)
                return view(request, found)
            except Http404 as exc:
                return json_error(404, str(exc) or "Not found.")
            except PermissionDenied as exc:
                return json_error(403, str(exc) or "You do not have permission to do this.")
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
                return json_error(400, "The request is not valid.", fields=errors)
        return wrapper
    return decorator

