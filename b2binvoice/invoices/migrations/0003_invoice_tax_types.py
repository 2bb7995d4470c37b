"""Give the tax copies of existing invoices the B2Brouter tax type of the tax they were copied from.

A copy whose company tax is gone gets the type its label and the company's country
suggest, with the same frozen rules as companies.0003_tax_types.
"""

import importlib

from django.db import migrations

# The module name starts with a digit, so it is imported by name.
derive = importlib.import_module("b2binvoice.companies.migrations.0003_tax_types").derive


def forwards(apps, schema_editor):
    InvoiceTax = apps.get_model("invoices", "InvoiceTax")
    for copy in InvoiceTax.objects.filter(tax_type="", kind="percentage").select_related("tax", "invoice__company"):
        if copy.tax is not None and copy.tax.tax_type:
            copy.tax_type = copy.tax.tax_type
        else:
            copy.tax_type = derive(copy.invoice.company.country, copy.name, copy.rate)
        copy.save(update_fields=["tax_type"])


class Migration(migrations.Migration):

    dependencies = [
        ("companies", "0003_tax_types"),
        ("invoices", "0002_b2brouter_fields"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
