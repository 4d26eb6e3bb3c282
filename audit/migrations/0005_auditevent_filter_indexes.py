from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_keyed_seals_late_commits_witness'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor', 'action', 'occurred_at'],
                               name='audit_actor_action_time'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'occurred_at'], name='audit_action_time'),
        ),
    ]
