from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_timezone_follows_organization"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="review_shortcuts",
            field=models.BooleanField(default=True),
        ),
    ]
