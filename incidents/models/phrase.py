from django.db import models

from incidents.blameless import REFRAME


class BlamelessPhrase(models.Model):
    """A phrase the blameless-language check flags, added by a team on top of the built-in list.

    A phrase with the same text as a built-in one replaces its reason and
    suggestion; an inactive one switches a built-in phrase off.
    """

    text = models.CharField(max_length=100, unique=True, help_text="Matched as whole words, any case.")
    reason = models.CharField(max_length=200, help_text="One line: why this phrasing assigns blame.")
    suggestion = models.CharField(max_length=200, default=REFRAME, help_text="A reframing to suggest.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["text"]

    def __str__(self) -> str:
        return self.text
