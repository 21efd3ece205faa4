from django.conf import settings
from django.utils import timezone


def morgue(request):
    return {
        "MORGUE_BASE_URL": settings.MORGUE_BASE_URL,
        "current_time_zone": timezone.get_current_timezone_name(),
    }
