"""Give every existing percentage tax the B2Brouter tax type its label and the company's country suggest.

The rules are frozen here (a migration must not change when the application code does):
a label starting with IVA, IGIC, IPSI, IRPF, IRNR or IRPEF is that type; a generic VAT
word (VAT, TVA, MwSt, USt, BTW, ...) or any other label is the VAT name of the company's
country; a negative rate with no such label is the country's withholding (IRPF in Spain,
IRPEF in Italy) and stays without a type elsewhere, for the user to choose.
"""

import unicodedata

from django.db import migrations

LABEL_PREFIXES = (("IRPEF", "IRPEF"), ("IRPF", "IRPF"), ("IRNR", "IRNR"), ("IGIC", "IGIC"), ("IPSI", "IPSI"),
                  ("IVA", "IVA"))
VAT_WORDS = ("VAT", "TVA", "MWST", "UST", "BTW", "UMSATZSTEUER", "MEHRWERTSTEUER", "IMPUESTO", "TAX")
COUNTRY_VAT_NAME = {"ES": "IVA", "IT": "IVA", "PT": "IVA", "FR": "TVA", "BE": "TVA", "NL": "BTW", "DE": "MwSt",
                    "AT": "USt", "GB": "VAT", "IE": "VAT"}
COUNTRY_WITHHOLDING_NAME = {"ES": "IRPF", "IT": "IRPEF"}


def derive(country, label, rate):
    decomposed = unicodedata.normalize("NFKD", label or "")
    words = " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper().split())
    for prefix, name in LABEL_PREFIXES:
        if words.startswith(prefix):
            return name
    country = (country or "").upper()
    negative = rate is not None and rate < 0
    if negative:
        return COUNTRY_WITHHOLDING_NAME.get(country, "")
    return COUNTRY_VAT_NAME.get(country, "VAT")


def forwards(apps, schema_editor):
    Tax = apps.get_model("companies", "Tax")
    for tax in Tax.objects.filter(tax_type="", kind="percentage").select_related("company"):
        tax.tax_type = derive(tax.company.country, tax.name, tax.rate)
        tax.save(update_fields=["tax_type"])


class Migration(migrations.Migration):

    dependencies = [
        ("companies", "0002_b2brouter_fields"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
