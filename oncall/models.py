from django.conf import settings
from django.db import models

OPS_SLUG = "ops"


class TeamQuerySet(models.QuerySet):
    def pageable(self):
        # Ops first: "If you're not sure who to page, page Ops911."
        return self.filter(pageable=True).order_by(
            models.Case(models.When(slug=OPS_SLUG, then=0), default=1), "name"
        )


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    pageable = models.BooleanField(default=True, help_text="Listed in the page-any-team directory.")
    email = models.EmailField(blank=True, help_text="Where notifications for the team go.")
    webhook_url = models.URLField(blank=True)
    fallback_team = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Paged when nobody on this team acknowledges; Ops when empty.",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def escalation_team(self) -> "Team | None":
        """Who to page when this team does not answer: its fallback, else Ops (never itself)."""
        if self.fallback_team_id and self.fallback_team_id != self.pk:
            return self.fallback_team
        if self.slug == OPS_SLUG:
            return None
        return Team.objects.filter(slug=OPS_SLUG).first()
