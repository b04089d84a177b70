from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotations", "0006_history_references_unchecked")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="reliability_stratify",
            field=models.CharField(
                blank=True,
                default="",
                help_text="What the reliability sample was stratified by: 'source', "
                "'published_year' or 'metadata.KEY'; empty when drawn from all "
                "documents.",
                max_length=100,
            ),
            preserve_default=False,
        ),
    ]
