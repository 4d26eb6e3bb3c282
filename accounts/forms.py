from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import ROLES


class TokenForm(forms.Form):
    token = forms.CharField(max_length=8, label="Code from your authenticator app",
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                          "inputmode": "numeric"}))


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “backup script”")
    days = forms.IntegerField(required=False, min_value=1, label="Valid for (days)",
                              help_text="Empty: the default lifetime.")


ROLE_CHOICES = [(role, role) for role in ROLES]


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    password = forms.CharField(widget=forms.PasswordInput, strip=False,
                               help_text="At least 12 characters; the user should change it.")


class UserUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    is_active = forms.BooleanField(required=False, label="Active")


class TeamForm(forms.Form):
    name = forms.CharField(max_length=150)
    members = forms.ModelMultipleChoiceField(
        get_user_model().objects.filter(is_active=True).order_by("username"), required=False,
        widget=forms.CheckboxSelectMultiple)
