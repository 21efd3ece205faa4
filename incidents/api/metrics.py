from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue.exceptions import MorgueError
from morgue.models import Profile
from morgue.params import parse_bool, parse_instant, parse_int_list

from ..selectors.metrics import IncidentFilters, incident_metrics


def incident_filters_from(request) -> IncidentFilters:
    """Report filters from the query string; dates are on the person's own calendar."""
    params = request.query_params if hasattr(request, "query_params") else request.GET
    zone = Profile.objects.for_user(request.user).zone
    filters = IncidentFilters(
        since=parse_instant("since", params.get("since"), zone=zone),
        until=parse_instant("until", params.get("until"), zone=zone, end_of_day=True),
        severity=parse_int_list("severity", params.getlist("severity"), low=1, high=5) or None,
        team=params.get("team") or None,
        tag=params.get("tag") or None,
        deploy_related=parse_bool("deploy_related", params.get("deploy_related")),
    )
    if filters.since and filters.until and filters.until <= filters.since:
        raise MorgueError("until must be after since.", field="until")
    return filters


_SUMMARY = inline_serializer(
    "DurationSummary",
    {
        "n": serializers.IntegerField(),
        "median": serializers.FloatField(allow_null=True),
        "p90": serializers.FloatField(allow_null=True),
        "q1": serializers.FloatField(allow_null=True),
        "q3": serializers.FloatField(allow_null=True),
        "mean": serializers.FloatField(allow_null=True),
    },
)


class IncidentMetricsView(APIView):
    """Durations of incidents that started in a period: n, median, p90, quartiles and mean, in seconds.

    Time to detect counts every incident, open ones too; time to resolve and
    impact count resolved incidents only (`open` says how many are not);
    `excluded` counts resolved incidents missing a timestamp.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO date or date-time; start of the period"),
            OpenApiParameter("until", str, description="ISO date (inclusive) or date-time (exclusive)"),
            OpenApiParameter("severity", str, description="one or more of 1–5, comma-separated"),
            OpenApiParameter("team", str, description="team slug"),
            OpenApiParameter("tag", str),
            OpenApiParameter(
                "deploy_related",
                bool,
                description="only incidents with (true) or without (false) a linked deploy",
            ),
        ],
        responses=inline_serializer(
            "IncidentMetrics",
            {
                "count": serializers.IntegerField(),
                "open": serializers.IntegerField(),
                "excluded": serializers.IntegerField(),
                "time_to_detect": _SUMMARY,
                "time_to_resolve": _SUMMARY,
                "impact": _SUMMARY,
                "deploy_related": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request):
        return Response(incident_metrics(incident_filters_from(request)))
