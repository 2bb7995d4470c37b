"""Webhooks set up by hand in B2Brouter, and deliveries de-duplicated without an event_id."""

from django.db import migrations, models
from django.db.models.functions import Cast, Concat


def fill(apps, schema_editor):
    """Key the stored deliveries by their event id, and mark existing registrations as made through the API."""
    WebhookEvent = apps.get_model("einvoicing", "WebhookEvent")
    WebhookEvent.objects.update(dedup_key=Concat(models.Value("event:"), Cast("event_id", models.CharField())))
    Integration = apps.get_model("einvoicing", "B2BrouterIntegration")
    Integration.objects.filter(webhook_registered_at__isnull=False).update(webhook_setup="api")


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0001_initial'),
        ('einvoicing', '0003_state_updates'),
        ('invoices', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='b2brouterintegration',
            name='webhook_setup',
            field=models.CharField(blank=True, choices=[('api', 'Registered through the API'), ('manual', 'Added in B2Brouter by hand')], max_length=10),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='dedup_key',
            field=models.CharField(default='', max_length=120),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='webhookevent',
            name='event_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='webhookevent',
            name='einvoicing_webhook_event_once',
        ),
        migrations.AddConstraint(
            model_name='webhookevent',
            constraint=models.UniqueConstraint(fields=('company', 'dedup_key'), name='einvoicing_webhook_delivery_once'),
        ),
    ]
