from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_profile_display_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="history_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
