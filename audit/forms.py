from django import forms

from audit.models import AuditEvent


class AuditFilterForm(forms.Form):
    actor = forms.CharField(max_length=150, required=False)
    action = forms.ChoiceField(choices=[("", "(any)")] + AuditEvent.Action.choices,
                               required=False)
    node = forms.CharField(max_length=255, required=False)
    since = forms.DateTimeField(required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}))
