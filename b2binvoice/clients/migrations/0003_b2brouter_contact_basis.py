from django.db import migrations, models


def remember_current_data(apps, schema_editor):
    """Record, for clients already matched to a contact, their data as it is now.

    What they were matched against was never recorded; from now on a change is noticed. (The
    checklist also compares the contact's tax id in B2Brouter with the client's, which catches a
    contact that was another company's from the start.)
    """
    Client = apps.get_model("clients", "Client")
    for client in Client.objects.filter(b2brouter_contact_id__isnull=False).iterator():
        client.b2brouter_contact_basis = {"client": {
            "name": client.name.strip(),
            "tin": "".join(ch for ch in (client.tin or "").upper() if ch.isalnum()),
            "country": (client.country or "").upper(),
            "address": client.address.strip(),
            "city": client.city.strip(),
            "postal_code": client.postal_code.strip(),
            "province": client.province.strip(),
        }, "contact": {}}
        client.save(update_fields=["b2brouter_contact_basis"])


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0002_b2brouter_fields'),
    ]

    operations = [
        migrations.AddField(
            model_name='client',
            name='b2brouter_contact_basis',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(remember_current_data, migrations.RunPython.noop),
    ]
