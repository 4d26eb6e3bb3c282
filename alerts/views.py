from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import require_sudo_mode
from alerts import selectors, services
from alerts.forms import AlertRulesForm, AlertTargetsForm
from alerts.models import Channel
from ha.router import is_read_only_node


@permission_required("accounts.manage_users", raise_exception=True)
@require_http_methods(["GET", "POST"])
@require_sudo_mode  # unticking every box silences every failover alert
def alert_settings(request):
    data = request.POST if request.method == "POST" else None
    rules_form = AlertRulesForm(data, rules=selectors.alert_rules())
    targets_form = AlertTargetsForm(data, instance=selectors.alert_targets())
    if data is not None and rules_form.is_valid() and targets_form.is_valid():
        # On a secondary the router refuses this write: the middleware shows why.
        services.alert_settings_update(admin=request.user, rules=rules_form.chosen(),
                                       targets=targets_form.cleaned_data, request=request)
        messages.success(request, "Alert settings saved.")
        return redirect("alerts:settings")
    read_only = is_read_only_node()
    if read_only:
        for form in (rules_form, targets_form):
            for field in form.fields.values():
                field.disabled = True
    return render(request, "alerts/settings.html", {
        "rules_form": rules_form, "targets_form": targets_form, "channels": Channel.choices,
        "deliveries": selectors.deliveries_recent(), "read_only": read_only,
        "missing_targets": [Channel(channel).label for channel in
                            selectors.chosen_channels_without_target(
                                default_recipients=settings.ALERT_EMAIL_TO)]})
