from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import render

from ha.router import ReadOnlyNode

# What MariaDB says when the read-only layer in the database refuses a write: no
# write grant (1142), read_only server (1290). Reaching them means the app layer was
# misconfigured; the user still gets the read-only answer, not a 500.
DATABASE_READ_ONLY_ERRORS = {1142, 1290}


class ReadOnlyNodeMiddleware:
    """A write refused on a read-only node becomes a clear 503 (a page for people,
    JSON for the API), never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DatabaseError) and exception.args \
                and exception.args[0] in DATABASE_READ_ONLY_ERRORS:
            exception = ReadOnlyNode("This node's database refused the change: it is "
                                     "read-only: changes can only be made on the primary.")
        if not isinstance(exception, ReadOnlyNode):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"error": str(exception), "read_only": True}, status=503)
        return render(request, "ha/read_only.html", {"message": str(exception)}, status=503)
