from django.http import JsonResponse
from django.shortcuts import render

from ha.router import ReadOnlyNode


class ReadOnlyNodeMiddleware:
    """A write refused by the router on a read-only node becomes a clear 503 (a page
    for people, JSON for the API), never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ReadOnlyNode):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"error": str(exception), "read_only": True}, status=503)
        return render(request, "ha/read_only.html", {"message": str(exception)}, status=503)
