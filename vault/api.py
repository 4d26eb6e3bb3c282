import json

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse
from django.utils.http import urlencode

from accounts.api_auth import api_view, json_error
from strongroom.keyset import BadCursor
from vault import limits, selectors, services
from vault.models import Account


class BodyRefused(Exception):
    """A request body the API will not parse; carries the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _json_object(request) -> dict:
    """The body as a JSON object, refused early and clearly: wrong media type (415),
    too large (413, checked before the body is read), not JSON or nested beyond the
    parser's depth (400)."""
    if request.content_type != "application/json":
        raise BodyRefused(415, "Send the body as application/json.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BodyRefused(400, "The Content-Length header is not a number.") from None
    if declared > limits.API_BODY_MAX:
        raise BodyRefused(413, f"The body is too large (at most {limits.API_BODY_MAX} bytes).")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyRefused(413, "The body is too large.") from None
    if len(raw) > limits.API_BODY_MAX:
        raise BodyRefused(413, f"The body is too large (at most {limits.API_BODY_MAX} bytes).")
    try:
        body = json.loads(raw) if raw else {}
    except RecursionError:
        raise BodyRefused(400, "The JSON body is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise BodyRefused(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BodyRefused(400, "The body must be a JSON object.")
    return body


def _account_json(account: Account) -> dict:
    return {"id": str(account.pk), "login_name": account.login_name,
            "resource": account.resource.name,
            "password_changed_at": account.password_changed_at.isoformat()}


@api_view(["GET"])
def resource_list(request):
    """One page (by name); the next and previous pages are in the Link header (RFC 8288)."""
    search = request.GET.get("q", "").strip()[:200]
    try:
        page = selectors.resource_page(user=request.user, search=search,
                                       cursor=request.GET.get("page", ""))
    except BadCursor as exc:
        return json_error(400, f"{exc} Follow the Link header's next or prev URL.")
    accounts = selectors.accounts_on_page(user=request.user, resources=page.rows)
    response = JsonResponse({"resources": [
        {"id": r.pk, "name": r.name, "type": r.resource_type, "address": r.address,
         "accounts": [_account_json(a) for a in accounts[r.pk]]} for r in page.rows]})
    query = {"q": search} if search else {}
    links = [f'<{request.path}?{urlencode({**query, "page": cursor})}>; rel="{rel}"'
             for rel, cursor in (("prev", page.previous_cursor), ("next", page.next_cursor))
             if cursor]
    if links:
        response["Link"] = ", ".join(links)
    return response


# The token, its user, the account, its resource and the user's grant in one statement.
_with_account = {"load": selectors.account_for_token, "missing": "No such account."}


@api_view(["GET"], **_with_account)
def account_detail(request, account: Account):
    return JsonResponse(_account_json(account))


@api_view(["GET", "POST"], **_with_account)
def account_password(request, account: Account):
    """GET retrieves the password (audited, `?reason=`); POST {"password": …} sets it."""
    if request.method == "GET":
        reason = request.GET.get("reason", "")[:limits.REASON_MAX]
        password = services.password_reveal(user=request.user, account=account,
                                            reason=reason, request=request)
        response = JsonResponse({**_account_json(account), "password": password})
        response["Cache-Control"] = "no-store"
        return response
    try:
        body = _json_object(request)
    except BodyRefused as exc:
        return json_error(exc.status, str(exc))
    new_password = body.get("password")
    if body.get("generate") is True and new_password is None:
        new_password = services.password_generate(resource=account.resource)
    if not isinstance(new_password, str):
        raise ValidationError({"password": "Send a password string, or generate: true."})
    account = services.password_change(user=request.user, account=account,
                                       new_password=new_password, request=request)
    return JsonResponse(_account_json(account))
