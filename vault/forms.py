from django import forms
from django.contrib.auth import get_user_model

from accounts.models import Team
from vault import limits
from vault.models import PasswordPolicy, Permission, Resource


class ResourceForm(forms.Form):
    name = forms.CharField(max_length=limits.NAME_MAX)
    resource_type = forms.ChoiceField(choices=Resource.Type.choices, label="Type")
    address = forms.CharField(max_length=limits.ADDRESS_MAX, required=False,
                              help_text="Host name, IP address or URL")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  max_length=limits.NOTES_MAX)
    policy = forms.ModelChoiceField(PasswordPolicy.objects.all(), required=False,
                                    empty_label="(no policy)", label="Password policy")


class AccountForm(forms.Form):
    login_name = forms.CharField(max_length=limits.NAME_MAX)
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                               strip=False, max_length=limits.PASSWORD_MAX)
    generate = forms.BooleanField(required=False, label="Generate a password for me")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                            max_length=limits.NOTES_MAX)

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("generate"):
            self.add_error("password", "Enter a password or tick “Generate a password for me”.")
        return data


class AccountEditForm(forms.Form):
    login_name = forms.CharField(max_length=limits.NAME_MAX)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                            max_length=limits.NOTES_MAX)


class PasswordChangeForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, required=False, strip=False,
                               max_length=limits.PASSWORD_MAX, label="New password")
    generate = forms.BooleanField(required=False, label="Generate a password for me")

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("generate"):
            self.add_error("password", "Enter a new password or tick “Generate”.")
        return data


class RevealForm(forms.Form):
    reason = forms.CharField(max_length=limits.REASON_MAX, required=False,
                             help_text="Why you need it (recorded in the audit trail)")


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(get_user_model().objects.filter(is_active=True)
                                  .order_by("username"), required=False)
    team = forms.ModelChoiceField(Team.objects.all(), required=False)
    permission = forms.ChoiceField(choices=Permission.choices)

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError("Choose either a user or a team.")
        return data
