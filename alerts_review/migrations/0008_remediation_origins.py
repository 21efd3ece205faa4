"""Items decided in an alerts review record that review as where they came from (filled for existing items)."""

from django.db import migrations


def fill_origins(apps, schema_editor) -> None:
    items = apps.get_model("incidents", "RemediationItem").objects
    actions = apps.get_model("alerts_review", "ReviewAction").objects
    for action in actions.filter(remediation__isnull=False).select_related("review__team"):
        review = action.review
        # The report's review section, as alerts_review.urls named it when this was written.
        url = f"/alerts/reports/{review.month:%Y-%m}/?team={review.team.slug}#review"
        title = f"{review.team.name} alerts review, {review.month:%B %Y}"
        items.filter(pk=action.remediation_id).update(origin_title=title, origin_url=url)


class Migration(migrations.Migration):

    dependencies = [
        ("alerts_review", "0007_email_deliveries"),
        ("incidents", "0010_remediation_origin"),
    ]

    operations = [
        migrations.RunPython(fill_origins, migrations.RunPython.noop),
    ]
