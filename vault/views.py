from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import require_recent_auth
from strongroom.keyset import BadCursor
from strongroom.web import add_service_errors
from vault import selectors, services
from vault.forms import (AccountEditForm, AccountForm, PasswordChangeForm, ResourceForm,
                         RevealForm, ShareForm)
from vault.models import Account, AccountShare, Permission, Resource, ResourceShare


def _get_resource_for_user(request, pk: int) -> tuple[Resource, str]:
    resource = get_object_or_404(Resource.objects.select_related("owner", "policy"), pk=pk)
    permission = selectors.resource_permission(user=request.user, resource=resource)
    if permission is None and not selectors.accounts_for_user(
            user=request.user, resource=resource).exists():
        raise Http404("No such resource")  # do not confirm it exists
    return resource, permission


def _get_account_for_user(request, pk) -> tuple[Account, str]:
    account = selectors.account_for_user(user=request.user, pk=pk)
    if account is None:
        raise Http404("No such account")
    return account, selectors.account_permission(user=request.user, account=account)


@login_required
def resource_list(request):
    search = request.GET.get("q", "").strip()[:200]
    try:
        page = selectors.resource_page(user=request.user, search=search,
                                       cursor=request.GET.get("page", ""))
    except BadCursor as exc:
        messages.warning(request, f"{exc} Showing the first page.")
        page = selectors.resource_page(user=request.user, search=search)
    return render(request, "vault/resource_list.html", {
        "page": page, "search": search,
        "can_create": request.user.has_perm("vault.add_resource")})


@login_required
@require_http_methods(["GET", "POST"])
def resource_create(request):
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.resource_create(user=request.user, request=request,
                                                **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Resource “{resource.name}” created.")
            return redirect("vault:resource_detail", pk=resource.pk)
    return render(request, "vault/form.html", {"form": form, "title": "New resource"})


@login_required
def resource_detail(request, pk: int):
    resource, permission = _get_resource_for_user(request, pk)
    return render(request, "vault/resource_detail.html", {
        "resource": resource,
        "accounts": selectors.accounts_for_user(user=request.user, resource=resource),
        "can_modify": permission == Permission.MODIFY,
        "shares": selectors.resource_shares(resource=resource)})


@login_required
@require_http_methods(["GET", "POST"])
def resource_edit(request, pk: int):
    resource, _ = _get_resource_for_user(request, pk)
    initial = {"name": resource.name, "resource_type": resource.resource_type,
               "address": resource.address, "description": resource.description,
               "policy": resource.policy}
    form = ResourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.resource_update(user=request.user, resource=resource, request=request,
                                     **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Resource saved.")
            return redirect("vault:resource_detail", pk=resource.pk)
    return render(request, "vault/form.html", {"form": form, "title": f"Edit {resource.name}"})


@login_required
@require_http_methods(["GET", "POST"])
def resource_delete(request, pk: int):
    resource, _ = _get_resource_for_user(request, pk)
    if request.method == "POST":
        services.resource_delete(user=request.user, resource=resource, request=request)
        messages.success(request, f"Resource “{resource.name}” deleted.")
        return redirect("vault:resource_list")
    return render(request, "vault/confirm_delete.html", {"object": resource,
                                                         "what": "resource"})


def _share(request, target, back_url: str):
    form = ShareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.share_grant(user=request.user, target=target, request=request,
                                 permission=form.cleaned_data["permission"],
                                 grantee_user=form.cleaned_data["user"],
                                 grantee_team=form.cleaned_data["team"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Shared.")
            return redirect(back_url)
    return render(request, "vault/form.html", {"form": form, "title": f"Share {target}"})


@login_required
@require_http_methods(["GET", "POST"])
def resource_share(request, pk: int):
    resource, _ = _get_resource_for_user(request, pk)
    return _share(request, resource, resource.get_absolute_url())


@login_required
@require_POST
def share_revoke(request, kind: str, share_id: int):
    model = {"resource": ResourceShare, "account": AccountShare}.get(kind)
    if model is None:
        raise Http404("No such share")
    share = get_object_or_404(model, pk=share_id)
    target = share.resource if kind == "resource" else share.account
    services.share_revoke(user=request.user, share=share, request=request)
    messages.success(request, "Share revoked.")
    return redirect(target.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request, pk: int):
    resource, _ = _get_resource_for_user(request, pk)
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = data["password"] or services.password_generate(resource=resource)
        try:
            account = services.account_create(user=request.user, resource=resource,
                                              login_name=data["login_name"], password=password,
                                              notes=data["notes"], request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Account “{account.login_name}” created.")
            return redirect("vault:account_detail", pk=account.pk)
    return render(request, "vault/form.html",
                  {"form": form, "title": f"New account on {resource.name}"})


# The page (and every reveal, which answers with it) lists the newest versions only;
# the whole history is one link away (?history=all).
HISTORY_SHOWN = 10


def _account_page(request, account: Account, permission: str, *, all_history: bool = False,
                  **extra):
    history = account.history.values("set_at", "replaced_at", "replaced_by__username")
    history = list(history if all_history else history[:HISTORY_SHOWN + 1])
    more = not all_history and len(history) > HISTORY_SHOWN
    return render(request, "vault/account_detail.html", {
        "account": account, "can_modify": permission == Permission.MODIFY,
        "history": history[:HISTORY_SHOWN] if more else history, "more_history": more,
        "shares": selectors.account_shares(account=account),
        "reveal_form": extra.pop("reveal_form", RevealForm()), **extra})


@login_required
def account_detail(request, pk):
    account, permission = _get_account_for_user(request, pk)
    return _account_page(request, account, permission,
                         all_history=request.GET.get("history") == "all")


@login_required
@require_POST
@require_recent_auth
def account_reveal(request, pk):
    account, permission = _get_account_for_user(request, pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _account_page(request, account, permission, reveal_form=form)
    password = services.password_reveal(user=request.user, account=account, request=request,
                                        reason=form.cleaned_data["reason"])
    response = _account_page(request, account, permission, revealed_password=password,
                             notes=services.account_notes(account), reveal_form=form,
                             reveal_hide_seconds=settings.REVEAL_HIDE_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@require_recent_auth  # the form shows the decrypted notes
def account_edit(request, pk):
    account, _ = _get_account_for_user(request, pk)
    initial = {"login_name": account.login_name}
    if request.method == "GET":
        initial["notes"] = services.notes_for_edit(user=request.user, account=account,
                                                   request=request)
    form = AccountEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(user=request.user, account=account, request=request,
                                    **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Account saved.")
            return redirect("vault:account_detail", pk=account.pk)
    response = render(request, "vault/form.html", {"form": form, "title": f"Edit {account}"})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_password(request, pk):
    account, _ = _get_account_for_user(request, pk)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_password = (form.cleaned_data["password"]
                        or services.password_generate(resource=account.resource))
        try:
            services.password_change(user=request.user, account=account,
                                     new_password=new_password, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Password changed; the old one is kept in the history.")
            return redirect("vault:account_detail", pk=account.pk)
    return render(request, "vault/form.html",
                  {"form": form, "title": f"Change the password of {account}"})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request, pk):
    account, _ = _get_account_for_user(request, pk)
    if request.method == "POST":
        resource = account.resource
        services.account_delete(user=request.user, account=account, request=request)
        messages.success(request, "Account deleted.")
        return redirect(resource.get_absolute_url())
    return render(request, "vault/confirm_delete.html", {"object": account, "what": "account"})


@login_required
@require_http_methods(["GET", "POST"])
def account_share(request, pk):
    account, _ = _get_account_for_user(request, pk)
    return _share(request, account, account.get_absolute_url())
