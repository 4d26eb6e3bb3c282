"""Error pages: JSON for the API, templates for people."""
from django.http import JsonResponse
from django.views import defaults

from strongroom.handlers import is_api_path


def bad_request(request, exception=None):
    # Django answers here for a refused host, an oversized form body and the like.
    if is_api_path(request.path):
        return JsonResponse({"error": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception=None):
    if is_api_path(request.path):
        return JsonResponse({"error": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_path(request.path):
        return JsonResponse({"error": "Internal error; it has been logged."}, status=500)
    return defaults.server_error(request)
