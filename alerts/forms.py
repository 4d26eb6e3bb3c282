from django import forms

from alerts.events import EVENT_TITLES
from alerts.models import AlertRule, AlertTargets, Channel


class AlertTargetsForm(forms.ModelForm):
    class Meta:
        model = AlertTargets
        fields = ["email_recipients", "syslog_host", "syslog_port", "syslog_transport",
                  "snmp_host", "snmp_port"]

    def clean_email_recipients(self) -> str:
        addresses = [a.strip() for a in self.cleaned_data["email_recipients"].split(",")
                     if a.strip()]
        for address in addresses:
            forms.EmailField().clean(address)
        return ", ".join(addresses)


class AlertRulesForm(forms.Form):
    """One checkbox per event and channel, named `<event>__<channel>`."""

    def __init__(self, *args, rules: dict[str, AlertRule], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for event, title in EVENT_TITLES.items():
            for channel, label in Channel.choices:
                self.fields[f"{event}__{channel}"] = forms.BooleanField(
                    required=False, label=f"{title}: {label}",
                    initial=getattr(rules[event], channel))

    def rows(self) -> list[tuple[str, list]]:
        return [(title, [self[f"{event}__{channel}"] for channel in Channel.values])
                for event, title in EVENT_TITLES.items()]

    def chosen(self) -> dict[str, list[str]]:
        return {event: [channel for channel in Channel.values
                        if self.cleaned_data[f"{event}__{channel}"]]
                for event in EVENT_TITLES}
