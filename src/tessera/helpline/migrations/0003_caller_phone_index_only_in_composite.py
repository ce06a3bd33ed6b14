"""The contact model always declared `caller_phone_index` without an index of its own (lookups use
`contact_org_phone`, which starts with the organisation), but `BlindIndexField` used to force
`db_index=True` through its migration state, so the column also had a single-column index and its
`varchar_pattern_ops` copy. Both go: the field now says what the model meant."""

from django.db import migrations

import tessera.vault.fields


class Migration(migrations.Migration):
    dependencies = [
        ("helpline", "0002_knowledge_fulltext_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="caller_phone_index",
            field=tessera.vault.fields.BlindIndexField(
                blank=True, kind="phone", max_length=32, source="caller_phone"
            ),
        ),
    ]
