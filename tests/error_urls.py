"""The product's URLs and error handlers, plus two views that fail on purpose, so the
500 handler can be tested as the product registers it."""
from django.urls import path

from strongroom import urls as product


class Boom(Exception):
    """Raised by the failing views: an error nobody handles."""


def fail(request):
    raise Boom("secret detail that must not reach the client")


urlpatterns = [path("api/v1/boom/", fail), path("boom/", fail), *product.urlpatterns]
handler400 = product.handler400
handler404 = product.handler404
handler500 = product.handler500
