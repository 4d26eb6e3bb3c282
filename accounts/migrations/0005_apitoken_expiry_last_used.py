"""API tokens expire and remember their last use. Tokens made before this had no
end: they get the default lifetime from now, so no script breaks at the upgrade."""
from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def give_existing_tokens_an_end(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    ends = timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    ApiToken.objects.using(schema_editor.connection.alias).filter(
        expires_at__isnull=True).update(expires_at=ends)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_totpdevice'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(give_existing_tokens_an_end, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='last_used_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
