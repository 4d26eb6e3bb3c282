"""The four roles as groups with their permissions, plus a default password policy."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import ROLE_PERMISSIONS


def create_roles(apps, schema_editor):
    alias = schema_editor.connection.alias
    # Permissions are normally made after migrate; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, permission_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(alias).get_or_create(name=role)
        for name in permission_names:
            app_label, codename = name.split(".")
            group.permissions.add(Permission.objects.using(alias).get(
                content_type__app_label=app_label, codename=codename))
    PasswordPolicy = apps.get_model("vault", "PasswordPolicy")
    PasswordPolicy.objects.using(alias).get_or_create(name="Strong (20, all classes)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("vault", "0001_initial"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
