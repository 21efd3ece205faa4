"""The stories behind the demo incidents: postmortems, timelines and follow-up work (pure data).

A handful of failures every operations team meets (a changed default shipped
with a deploy, an expired certificate, a DNS answer cached past its change, a
slow database failover, a queue that backs up, a full disk, a cache stampede,
a retried job that was not idempotent, a vendor outage), each told once and
placed on several incidents through its variants: a variant names the
incident (title, service, team) and supplies the nouns its story needs.

Placeholders in the texts: a variant's own words, and the incident's spans
from its milestones (`to_detect`, `to_acknowledge`, `to_status`,
`to_mitigate`, `to_resolve`), so the prose agrees with its timeline.

The texts are written in blameless language; `incidents.demo` adds the one
blameful sentence (`BLAMEFUL_ASIDE`) to one incident so the check has
something to show. `tests/incidents/test_demo_postmortems.py` runs the check
over every seeded postmortem.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    title: str
    service: str
    team: str
    tags: tuple[str, ...]
    words: dict[str, str] = field(default_factory=dict)
    vendor: bool = False
    # Minutes after impact started of detection, acknowledgement, status post,
    # mitigation and resolution, when the title states a duration.
    timing: tuple[int, int, int, int, int] | None = None
    # The hour (UTC) impact started, when the story says when in the day it happened.
    start_hour: int | None = None


@dataclass(frozen=True)
class Event:
    # The milestone it follows (impact_started, detected, acknowledged,
    # status_posted, mitigated, resolved) and minutes after it.
    after: str
    minutes: int
    kind: str  # an incidents.models.EventKind value
    text: str


@dataclass(frozen=True)
class Item:
    kind: str  # RemediationKind value: dev or ops
    category: str  # RemediationCategory value
    title: str
    description: str


@dataclass(frozen=True)
class Story:
    key: str
    tldr: str
    what_happened: str
    why_surprised: str
    went_well: str
    got_lucky: str
    contributing_factors: str
    events: tuple[Event, ...]
    items: tuple[Item, ...]
    variants: tuple[Variant, ...]


# The one sentence in the whole demo that the blameless-language check flags
# ("should have"): it is added to a single incident's "What happened?".
BLAMEFUL_ASIDE = (
    "Looking back, the on-call engineer should have promoted the second replica by hand as soon as "
    "orchestration refused the first."
)

# How a changed default arrives with most deploys: a dependency upgrade.
UPGRADE = {
    "how": "it carried a library upgrade that nobody had reviewed for behaviour changes, and the upgrade "
    "changed the default of",
    "believed": "the release notes called the upgrade a maintenance release, the tests passed, and "
    "staging looked normal",
    "factor": "the upgrade shipped together with unrelated work, which made the diff look harmless",
}

CHANGED_DEFAULT = Story(
    key="changed-default",
    tldr=(
        "{symptom_short} for {to_resolve} after a routine {change_kind} to {service} switched on "
        "{setting_quoted} with a default nobody had chosen. {who_hit} were affected; rolling the "
        "{change_kind} back mitigated it after {to_mitigate}."
    ),
    what_happened=(
        "A routine {change_kind} to {service} went out at the start of the incident. {how_capital} "
        "{setting_quoted}: {default_change}.\n\n"
        "The first sign was {first_sign}, {to_detect} after the impact began. The on-call "
        "engineer acknowledged {to_acknowledge} later and opened the deploy log, where the {change_kind} "
        "was the only change in the window. Because the diff itself touched nothing related, the first "
        "half hour went into ruling out {red_herring}.\n\n"
        "Once someone compared the effective configuration of an old and a new instance side by side, "
        "the difference was one line. We rolled the {change_kind} back and {recovered}; the status page "
        "had been updated {to_status} after detection. The fix, setting {setting_quoted} explicitly in our "
        "own configuration, shipped the next morning."
    ),
    why_surprised=(
        "We believed the {change_kind} changed nothing customers would notice: {believed}.\n\n"
        "Staging did not show the problem because {staging_gap}. Our tests exercise the code paths but "
        "read configuration from fixtures, so they never saw the library's new default at all."
    ),
    went_well=(
        "The deploy log made the suspect obvious within minutes: there was exactly one {change_kind} in the "
        "window, with its diff and its author's notes one click away.\n\n"
        "The rollback is a single command and took under two minutes, and the person running it narrated "
        "each step in the incident channel, so nobody had to ask what state we were in."
    ),
    got_lucky=(
        "{lucky_timing}\n\n"
        "The engineer who knew the library's changelog happened to be online and recognised the setting "
        "name as soon as it was pasted into the channel."
    ),
    contributing_factors=(
        "- {setting_quoted} was left to a default, and the default changed; we relied on it instead of "
        "setting it ourselves.\n"
        "- Staging cannot show this class of problem: {staging_gap}.\n"
        "- Nothing lists the effective configuration of a running instance, so comparing old and new "
        "took a person and half an hour.\n"
        "- {factor_capital}."
    ),
    events=(
        Event("detected", 0, "detection", "{first_sign_capital}"),
        Event("acknowledged", 1, "action", "Checked the deploy log: one {change_kind} in the window"),
        Event("acknowledged", 3, "note", "Ruling out {red_herring}"),
        Event("status_posted", 0, "communication", "Status page: {symptom_short_lower}, investigating"),
        Event("mitigated", -2, "action", "Rolled {service} back to the previous release"),
        Event("mitigated", 0, "note", "{recovered_capital}; watching the graphs"),
        Event("resolved", 0, "communication", "Status page: resolved; {setting_quoted} to be pinned"),
    ),
    items=(
        Item(
            "dev",
            "prevent",
            "Pin {setting} explicitly in the {service} configuration",
            "The library's default changed under us; our own configuration now states the value we rely on.",
        ),
        Item(
            "dev",
            "detect",
            "Add a contract test for {setting} in the {service} test suite",
            "The test reads the effective configuration, not a fixture, so a changed default fails the "
            "build.",
        ),
        Item(
            "ops",
            "detect",
            "Show the effective configuration of each {service} instance on its status endpoint",
            "Comparing an old and a new instance took half an hour during the incident; make it one request.",
        ),
        Item(
            "dev",
            "process",
            "Ask “which defaults does this change touch?” in the {service} change template",
            "The change relied on a default nobody had chosen: {factor}.",
        ),
        Item(
            "ops",
            "mitigate",
            "Canary {service} deploys on one host for ten minutes before the rest",
            "A canary would have shown the problem on a small share of traffic first.",
        ),
        Item(
            "ops",
            "process",
            "Make staging data for {service} closer to production",
            "Staging did not show the problem because {staging_gap}.",
        ),
    ),
    variants=(
        Variant(
            "Checkout returns 500s after payment-service deploy",
            "checkout",
            "payments",
            ("deploy", "checkout"),
            {
                "change_kind": "deploy",
                **UPGRADE,
                "recovered": "checkout stopped returning errors within a minute",
                "setting": "payment_client.strict_currency",
                "default_change": "it began rejecting baskets whose currency was not set explicitly, which "
                "is every basket created before the customer picks a country",
                "symptom_short": "Checkout returned HTTP 500 on the payment step",
                "who_hit": "About a third of shoppers reaching the payment step",
                "first_sign": "the checkout 5xx alert crossing 5%",
                "red_herring": "the payment gateway and the database",
                "staging_gap": "staging baskets are all created by a test script that always sets the "
                "currency",
                "lucky_timing": "It happened mid-morning in Europe, an hour before the lunchtime peak and "
                "well away from the seasonal sale.",
            },
            start_hour=10,
        ),
        Variant(
            "Shop search ranking reversed after config change",
            "search",
            "dev",
            ("config", "search"),
            {
                "change_kind": "config change",
                "how": "it moved the ranking settings to a new configuration template, and the template left "
                "out",
                "believed": "the new template had been reviewed, the configuration linter passed, and "
                "staging "
                "looked normal",
                "factor": "the new template left the setting out, and nothing warns when a setting falls "
                "back "
                "to a default",
                "recovered": "the ranking was back to most relevant first within a minute",
                "setting": "ranking.sort_direction",
                "default_change": "the search library reads an unset direction as ascending, so the least "
                "relevant listings came first",
                "symptom_short": "Shop search showed the least relevant results first",
                "who_hit": "Visitors searching within a shop",
                "first_sign": "a drop in search click-through on the conversion dashboard",
                "red_herring": "the nightly index rebuild and a suspected bad shard",
                "staging_gap": "the staging index holds a few hundred listings, too few for the order to "
                "look wrong",
                "lucky_timing": "It happened late in the evening in Europe, when shop search traffic is at "
                "its daily low.",
            },
            start_hour=21,
        ),
        Variant(
            "Rate limiter blocked the mobile app",
            "api",
            "dev",
            ("rate-limit", "mobile"),
            {
                "change_kind": "deploy",
                **UPGRADE,
                "recovered": "the 429 responses stopped within a minute",
                "setting": "ratelimit.key",
                "default_change": "limits are now counted per client IP instead of per API token, so every "
                "phone behind a carrier's shared address counted against one small budget",
                "symptom_short": "The API answered the mobile app with HTTP 429",
                "who_hit": "Mobile users on the two largest carriers",
                "first_sign": "a spike of 429 responses on the API dashboard and app-store reviews",
                "red_herring": "a suspected bot attack from the carriers' address ranges",
                "staging_gap": "staging traffic comes from a handful of test devices on office Wi-Fi",
                "lucky_timing": "The web site was unaffected, so customers who wrote in could be pointed to "
                "it "
                "while we worked.",
            },
        ),
        Variant(
            "CDN purge removed every static asset",
            "cdn",
            "ops",
            ("cdn", "vendor"),
            {
                "change_kind": "deploy",
                "how": "it shipped a new release of the purge tool that the deploy pipeline runs on every "
                "release, and that release changed the meaning of an unset",
                "believed": "the purge tool's release notes described it as a bug-fix release, and the "
                "deploy "
                "pipeline's checks passed",
                "factor": "the purge step runs on every deploy with an empty path list, which was harmless "
                "until the meaning of empty changed",
                "recovered": "pages got their styles and images back as the CDN refilled from our origin",
                "setting": "purge.paths",
                "default_change": "the new release reads an empty path list as “purge everything” where the "
                "old "
                "one purged nothing",
                "symptom_short": "Pages loaded without styles or images",
                "who_hit": "All visitors, until the CDN refilled its cache from our origin,",
                "first_sign": "the origin traffic graph jumping twentyfold",
                "red_herring": "a CDN-side outage, since the vendor's status page was yellow that day",
                "staging_gap": "staging has no CDN in front of it, so the purge step is skipped there",
                "lucky_timing": "The origin servers had been scaled up the week before for a load test and "
                "absorbed the refill without falling over.",
            },
            vendor=True,
        ),
        Variant(
            "Currency conversion off by a factor of 100",
            "pricing",
            "payments",
            ("data", "pricing"),
            {
                "change_kind": "deploy",
                **UPGRADE,
                "recovered": "converted prices were right again within a minute",
                "setting": "fx_feed.units",
                "default_change": "the new client returns rates in minor units (cents) unless told "
                "otherwise, so every converted price came out a hundred times too large",
                "symptom_short": "Converted prices were shown a hundred times too high",
                "who_hit": "Visitors browsing in a currency other than the listing's",
                "first_sign": "a support ticket with a screenshot of a 4,500 euro mug",
                "red_herring": "the exchange-rate vendor's feed, which was correct all along",
                "staging_gap": "staging shows prices in the listing's own currency only",
                "lucky_timing": "Checkout charges in the listing's own currency, so no customer paid the "
                "inflated price.",
            },
        ),
    ),
)

CERTIFICATE = Story(
    key="certificate",
    tldr=(
        "The {certificate} expired and {who_hit} could not {action} for {to_resolve}. A renewed certificate "
        "was installed by hand; renewal is being automated."
    ),
    what_happened=(
        "The {certificate} reached its expiry date at the start of the incident. It was one of the few "
        "certificates still renewed by hand: a calendar reminder went to a shared mailbox that had been "
        "retired in the last team reorganisation.\n\n"
        "{first_sign_capital} {to_detect} after the expiry. The on-call engineer acknowledged "
        "{to_acknowledge} "
        "later. The error message ({error}) pointed at the certificate straight away, so the time went "
        "into finding who could issue a new one and where the private key lived.\n\n"
        "The key was in the secrets store under an old name. A new certificate was issued, installed on "
        "{where}, and {recovered} {to_mitigate} after the expiry. We then checked every other "
        "certificate we own by hand: two more were due within a month."
    ),
    why_surprised=(
        "We believed every certificate was renewed automatically. Most are, and the dashboard that lists "
        "them only shows the automated ones, so the manual ones were invisible.\n\n"
        "We also believed an expiring certificate would be noticed by monitoring, but the external check "
        "only tested that the port answered, not how long the certificate had left."
    ),
    went_well=(
        "The error was unambiguous and the diagnosis took minutes.\n\n"
        "Support had a saved reply ready within a quarter of an hour, and the status page was updated "
        "{to_status} after detection with a plain description of who was affected."
    ),
    got_lucky=(
        "The private key was still in the secrets store: had it been lost, we would have waited for a new "
        "certificate to be validated by the authority, which can take hours.\n\n"
        "{lucky}"
    ),
    contributing_factors=(
        "- A handful of certificates were still renewed by hand, outside the automated renewal.\n"
        "- The renewal reminder went to a mailbox that no longer existed.\n"
        "- The certificate dashboard only lists automated certificates.\n"
        "- External monitoring checked that the port answered, not the certificate's expiry date."
    ),
    events=(
        Event("detected", 0, "detection", "{first_sign_capital}"),
        Event("acknowledged", 1, "note", "Error is {error}: the certificate expired"),
        Event("acknowledged", 6, "action", "Found the private key in the secrets store under an old name"),
        Event("status_posted", 0, "communication", "Status page: {who_hit} cannot {action}"),
        Event("mitigated", -3, "action", "Installed the renewed certificate on {where}"),
        Event("mitigated", 0, "note", "{recovered_capital}"),
        Event("resolved", 0, "action", "Checked every certificate by hand: two more due within a month"),
    ),
    items=(
        Item(
            "ops",
            "prevent",
            "Move the {certificate} to automated renewal",
            "It was one of the last certificates renewed by hand.",
        ),
        Item(
            "ops",
            "detect",
            "Alert 21 days before any certificate we serve expires",
            "The external check tested that the port answered, not how long the certificate had left.",
        ),
        Item(
            "ops",
            "detect",
            "List every certificate on the certificate dashboard, manual ones included",
            "The manual certificates were invisible on the dashboard.",
        ),
        Item(
            "dev",
            "mitigate",
            "Show a readable error page when {service} cannot verify a certificate",
            "People saw {error} and nothing telling them we knew.",
        ),
        Item(
            "ops",
            "process",
            "Send renewal reminders to the team's rotation, not to a mailbox",
            "The reminder went to a mailbox retired in the reorganisation.",
        ),
    ),
    variants=(
        Variant(
            "Expired TLS certificate on the API hostname",
            "api",
            "ops",
            ("tls", "certificates"),
            {
                "certificate": "TLS certificate of api.example.com",
                "who_hit": "partners and the mobile app",
                "action": "connect to the API",
                "first_sign": "the partner integration error rate alert fired",
                "error": "“certificate has expired” in every client",
                "where": "both load balancers",
                "recovered": "the API accepted connections again",
                "lucky": "The web site uses a different hostname and certificate, so most customers saw "
                "nothing at all.",
            },
        ),
        Variant(
            "Login loop for single-sign-on users",
            "auth",
            "dev",
            ("auth", "sso"),
            {
                "certificate": "certificate that signs our single-sign-on requests",
                "who_hit": "staff and business customers who log in through their company's identity "
                "provider",
                "action": "log in",
                "first_sign": "support chats about being sent back to the login page started",
                "error": "“signature validation failed” in the identity provider's logs",
                "where": "the auth service and in each identity provider's metadata",
                "recovered": "logging in through single sign-on worked again",
                "lucky": "People already logged in kept their sessions, and password logins were not "
                "affected.",
            },
        ),
    ),
)

DNS_TTL = Story(
    key="dns-ttl",
    tldr=(
        "{symptom_capital} for {to_resolve} after {dns_change}. Resolvers kept the old answer for the "
        "record's TTL of {ttl}; lowering the TTL ahead of changes is now on the checklist."
    ),
    what_happened=(
        "A planned change, {dns_change}, was made at the start of the incident. The change itself was "
        "correct, and the new answer was visible from our laptops straight away.\n\n"
        "{first_sign_capital} {to_detect} later. The on-call engineer acknowledged {to_acknowledge} after "
        "that, and because `dig` from the office showed the right answer, the first theory was a problem "
        "in {red_herring}. It took a query from inside the affected hosts to see that their resolvers "
        "still returned the old address.\n\n"
        "The record's TTL was {ttl}. Flushing the resolver caches in the affected network mitigated it "
        "{to_mitigate} after the change; everything else caught up as the cached answers expired."
    ),
    why_surprised=(
        "We believed DNS changes take effect within minutes, because most of our records have a TTL of "
        "five minutes. This one was created years ago with the provider's default of {ttl}.\n\n"
        "We also believed that checking the answer from one place was enough to confirm a change; each "
        "network has its own caching resolvers, and they do not all agree at the same time."
    ),
    went_well=(
        "Once the cached answer was found, the fix was quick and well understood.\n\n"
        "The change had been announced in the team channel beforehand, so the link between the change "
        "and the symptoms was made early by someone who had read the announcement."
    ),
    got_lucky=(
        "{lucky}\n\n"
        "The old address still answered on a few ports, so some traffic kept flowing even before the "
        "caches were flushed."
    ),
    contributing_factors=(
        "- The record's TTL was {ttl}, a default from when it was created.\n"
        "- The change checklist does not say to lower the TTL a day ahead.\n"
        "- We confirmed the change from the office network only.\n"
        "- There is no check of what each network's resolvers answer."
    ),
    events=(
        Event("impact_started", 0, "action", "{dns_change_capital}"),
        Event("detected", 0, "detection", "{first_sign_capital}"),
        Event("acknowledged", 2, "note", "dig from the office returns the new answer"),
        Event("status_posted", 0, "communication", "Status page: {symptom}"),
        Event("mitigated", -6, "note", "Resolvers in the affected network still answer the old address"),
        Event("mitigated", -1, "action", "Flushed the resolver caches in the affected network"),
        Event("resolved", 0, "note", "All resolvers return the new answer"),
    ),
    items=(
        Item(
            "ops",
            "prevent",
            "Lower the TTL of every record for {service} to five minutes",
            "The record kept the provider's default TTL of {ttl} from when it was created.",
        ),
        Item(
            "ops",
            "process",
            "Add “lower the TTL a day ahead” to the DNS change checklist",
            "A long TTL turns a correct change into hours of mixed answers.",
        ),
        Item(
            "ops",
            "detect",
            "Probe what the resolvers in each network answer for our main records",
            "We confirmed the change from the office only, where the answer was already new.",
        ),
        Item(
            "dev",
            "mitigate",
            "Let {service} re-resolve names on connection errors instead of caching them",
            "Clients held the old address for as long as the resolver did, and sometimes longer.",
        ),
    ),
    variants=(
        Variant(
            "DNS resolution failures in one data centre",
            "dns",
            "ops",
            ("dns", "network"),
            {
                "dns_change": "moving the internal service records to the new resolver pair",
                "ttl": "one day",
                "symptom": "services in one data centre could not reach each other by name",
                "first_sign": "the service-to-service error rate alert fired for the second data centre",
                "red_herring": "the new resolvers' configuration",
                "lucky": "The other data centre was unaffected, and the load balancer moved most customer "
                "traffic there on its own health checks.",
            },
        ),
        Variant(
            "Support inbox stopped receiving email",
            "helpdesk",
            "support",
            ("email", "vendor"),
            {
                "dns_change": "pointing the support domain's MX record at the new helpdesk provider",
                "ttl": "twelve hours",
                "symptom": "email to support was bounced or delivered to the old helpdesk",
                "first_sign": "a customer wrote on social media that their email to support had bounced",
                "red_herring": "the new helpdesk provider's inbound filters",
                "lucky": "The old helpdesk had not been switched off yet, so most of the mail that reached "
                "it could be exported and imported into the new one.",
            },
            vendor=True,
        ),
        Variant(
            "Monitoring blind spot during the network upgrade",
            "monitoring",
            "ops",
            ("monitoring", "network"),
            {
                "dns_change": "renumbering the metrics collectors during the network upgrade",
                "ttl": "six hours",
                "symptom": "dashboards and alerts had no data from half of the hosts",
                "first_sign": "the upgrade's own checks showed a gap in the request-rate graph",
                "red_herring": "the new switches' firewall rules",
                "lucky": "Nothing else went wrong during the hours when half of the alerts could not fire.",
            },
        ),
    ),
)

FAILOVER = Story(
    key="failover",
    tldr=(
        "The primary MySQL host lost its disk controller and the failover to a replica took "
        "{to_mitigate} instead of the expected two. Writes failed across the site for that time; reads "
        "mostly worked."
    ),
    what_happened=(
        "The primary database host's disk controller reset at the start of the incident and the host "
        "stopped accepting writes. Orchestration detected it and tried to promote the most up-to-date "
        "replica.\n\n"
        "The promotion was refused: that replica was 40 seconds behind, above the safety limit we set "
        "last year, and orchestration does not try the next candidate on its own. The database alert "
        "fired {to_detect} after the reset, and the on-call engineer acknowledged {to_acknowledge} later "
        "and joined the incident channel.\n\n"
        "The runbook for a manual promotion was found after a search of the wiki. The second replica was "
        "promoted by hand, the application's connection pools were recycled, and writes worked again "
        "{to_mitigate} after the reset. The old primary was rebuilt as a replica over the following hours."
    ),
    why_surprised=(
        "We believed failover was automatic and took about two minutes; it had been tested quarterly. "
        "Every test had used a healthy replica, so the refusal path had never run.\n\n"
        "We also believed replica lag stayed under a few seconds. A nightly reporting job had been "
        "pointed at the first replica a month earlier, and its heavy reads made that replica fall behind "
        "every night."
    ),
    went_well=(
        "Orchestration refused to promote a lagging replica, so no acknowledged write was lost.\n\n"
        "The database and application engineers worked in one call with one person typing commands, and "
        "the status page was updated {to_status} after detection."
    ),
    got_lucky=(
        "The second replica was nearly in sync; had both been behind, we would have had to choose between "
        "waiting and losing writes.\n\n"
        "The reset happened outside the nightly reporting window, when the lag was already shrinking."
    ),
    contributing_factors=(
        "- Orchestration stops after a refused promotion instead of trying the next candidate.\n"
        "- Failover drills only ever used a healthy replica.\n"
        "- A reporting job added read load to the preferred failover candidate.\n"
        "- The manual promotion runbook was hard to find under time pressure.\n"
        "- There was no alert on replica lag."
    ),
    events=(
        Event("detected", 0, "detection", "Alert: {service} primary not accepting writes"),
        Event("acknowledged", 1, "note", "Orchestration refused to promote replica 1: 40 s behind"),
        Event("acknowledged", 4, "action", "Looking for the manual promotion runbook"),
        Event("status_posted", 0, "communication", "Status page: saving changes fails; browsing works"),
        Event("mitigated", -4, "action", "Promoted replica 2 by hand"),
        Event("mitigated", -1, "action", "Recycled the application connection pools"),
        Event("mitigated", 0, "note", "Writes succeeding again"),
        Event("resolved", 0, "note", "Old primary rebuilt as a replica"),
    ),
    items=(
        Item(
            "ops",
            "mitigate",
            "Let orchestration try the next replica when a promotion is refused",
            "It stopped after the first candidate was refused, which turned two minutes into many.",
        ),
        Item(
            "ops",
            "detect",
            "Alert on {service} replica lag above 30 seconds",
            "The preferred failover candidate fell behind every night and nobody knew.",
        ),
        Item(
            "ops",
            "process",
            "Run the failover drill with a lagging replica",
            "Every drill had used a healthy replica, so the refusal path had never run.",
        ),
        Item(
            "dev",
            "prevent",
            "Move the nightly reporting job off the failover candidate",
            "Its heavy reads put the preferred replica 40 seconds behind.",
        ),
        Item(
            "ops",
            "process",
            "Link the manual promotion runbook from the database alert",
            "It took a wiki search to find it during the incident.",
        ),
        Item(
            "dev",
            "mitigate",
            "Recycle connection pools automatically when the primary changes",
            "Recycling them by hand added minutes to the outage.",
        ),
    ),
    variants=(
        Variant(
            "Primary database failover took 14 minutes",
            "mysql",
            "ops",
            ("database", "failover"),
            timing=(1, 3, 6, 14, 95),
            start_hour=14,
        ),
    ),
)

QUEUE_BACKLOG = Story(
    key="queue-backlog",
    tldr=(
        "{work_capital} waited in the {queue} queue for up to {to_resolve} because the workers stopped "
        "taking jobs after {trigger}. Nothing was lost; the backlog drained once more workers were added."
    ),
    what_happened=(
        "At the start of the incident {trigger}. The workers on the {queue} queue did not crash; each one "
        "picked up a job, {stuck}, and never asked for another. The queue kept growing at its normal "
        "rate of arrivals.\n\n"
        "{first_sign_capital} {to_detect} after the workers stalled. The on-call engineer acknowledged "
        "{to_acknowledge} later; the worker hosts looked healthy (low CPU, plenty of memory), which "
        "pointed the first investigation at the queue broker instead.\n\n"
        "A thread dump from one worker showed every thread waiting on the same call with no timeout. We "
        "restarted the workers with a timeout set and doubled their number to drain the backlog; the "
        "oldest job waited {to_mitigate} and the queue was back to normal after {to_resolve}."
    ),
    why_surprised=(
        "We believed a stuck worker would be restarted by its health check. The health check only asks "
        "whether the process is alive, and a worker waiting forever is alive.\n\n"
        "We also believed we would hear about a backlog quickly. The queue alert was on the number of "
        "jobs, with a threshold set for the busiest hour of the year, so on an ordinary day it took a long "
        "time to cross it."
    ),
    went_well=(
        "Jobs were persisted in the broker, so nothing was lost: every {work_singular} was eventually "
        "processed, in order.\n\n"
        "Adding workers is one setting and drained the backlog in a predictable time, which let support "
        "give customers an honest estimate."
    ),
    got_lucky=("{lucky}\n\nThe broker's disk had room for several more hours of backlog."),
    contributing_factors=(
        "- {call_capital} had no timeout.\n"
        "- The worker health check tests that the process is alive, not that it makes progress.\n"
        "- The queue alert watches the number of jobs, not the age of the oldest one.\n"
        "- The worker hosts looked healthy, which sent the investigation to the broker first."
    ),
    events=(
        Event("impact_started", 0, "note", "{trigger_capital}"),
        Event("detected", 0, "detection", "{first_sign_capital}"),
        Event("acknowledged", 3, "note", "Workers healthy: low CPU, plenty of memory; checking the broker"),
        Event("status_posted", 0, "communication", "Status page: {work} delayed"),
        Event(
            "mitigated", -8, "note", "Thread dump: every worker thread waiting on {call} without a timeout"
        ),
        Event("mitigated", -3, "action", "Restarted the {queue} workers with a 30 s timeout, twice as many"),
        Event("mitigated", 0, "note", "Queue draining"),
        Event("resolved", 0, "note", "Queue drained; oldest job back under a minute"),
    ),
    items=(
        Item(
            "dev",
            "prevent",
            "Put a timeout on {call} in the {queue} workers",
            "Every worker thread waited on it forever.",
        ),
        Item(
            "dev",
            "detect",
            "Make the {queue} worker health check fail when no job finished in five minutes",
            "A worker waiting forever is alive, so the health check passed.",
        ),
        Item(
            "ops",
            "detect",
            "Alert on the age of the oldest job in the {queue} queue",
            "The alert on the number of jobs was tuned for the busiest hour and took too long to fire.",
        ),
        Item(
            "ops",
            "mitigate",
            "Scale the {queue} workers on queue age automatically",
            "Doubling the workers by hand is what drained the backlog.",
        ),
        Item(
            "ops",
            "process",
            "Add a thread dump step to the worker runbook",
            "It was the thread dump that showed where the workers were stuck.",
        ),
    ),
    variants=(
        Variant(
            "Image uploads stuck in the processing queue",
            "uploads",
            "dev",
            ("queue", "storage"),
            {
                "work": "image uploads",
                "work_singular": "upload",
                "queue": "image processing",
                "trigger": "the object store began answering slowly in one region",
                "stuck": "sent the resized image to the object store",
                "call": "the object store upload",
                "first_sign": "sellers wrote in that new listing photos showed as “processing”",
                "lucky": "It happened in the morning, well before the evening peak when sellers upload "
                "the most photos.",
            },
            start_hour=7,
        ),
        Variant(
            "Push notifications delayed by two hours",
            "notifications",
            "dev",
            ("queue", "mobile"),
            {
                "work": "push notifications",
                "work_singular": "notification",
                "queue": "push",
                "trigger": "the mobile push gateway started holding connections open without answering",
                "stuck": "opened a connection to the push gateway",
                "call": "the push gateway request",
                "first_sign": "the push queue alert fired",
                "lucky": "Order confirmations also go by email, so buyers still learned their orders had "
                "gone "
                "through.",
            },
            timing=(32, 37, 45, 120, 150),
        ),
        Variant(
            "Order export to the warehouse missed a day",
            "exports",
            "support",
            ("jobs", "data"),
            {
                "work": "order exports",
                "work_singular": "order",
                "queue": "warehouse export",
                "trigger": "the warehouse's SFTP server stopped completing logins",
                "stuck": "opened the SFTP session to upload its file",
                "call": "the SFTP login",
                "first_sign": "the warehouse asked support why the day's order file had not arrived",
                "lucky": "The warehouse could still ship the next day, so no order missed its promised "
                "delivery date.",
            },
            timing=(1380, 1395, 1410, 1470, 1530),
            start_hour=0,
        ),
    ),
)

RESOURCE_FULL = Story(
    key="resource-full",
    tldr=(
        "{resource_capital} on {hosts} ran out, and for {to_resolve} {symptom}. {usage_capital} had grown "
        "steadily for weeks; the growth is now graphed and alerted on."
    ),
    what_happened=(
        "{usage_capital} on {hosts} had been growing for weeks, and at the start of the incident the "
        "first host ran out of {resource}. The others followed within minutes, since they all carry the "
        "same load.\n\n"
        "{first_sign_capital} {to_detect} later. The on-call engineer acknowledged {to_acknowledge} after "
        "that and found {evidence}. The quick fix, {quick_fix}, was applied to one host at a time so the "
        "cluster kept some capacity throughout.\n\n"
        "The service was working again {to_mitigate} after the first host ran out. The lasting fix, "
        "{lasting}, went out the same week."
    ),
    why_surprised=(
        "We believed {resource} was watched: there is an alert on it. The alert fires at 95%, and at the "
        "rate it was growing that left minutes, not days, to act.\n\n"
        "We also believed the growth was seasonal and would level off, because a graph of the last week "
        "looked flat; the growth only shows over months."
    ),
    went_well=(
        "Working one host at a time kept part of the cluster up during the fix.\n\n"
        "The people who knew the service were reachable quickly, and the incident channel had a written "
        "summary every half hour, which made the hand-over between time zones easy."
    ),
    got_lucky=(
        "{lucky}\n\nThe first host ran out some minutes before the others, which gave an early signal."
    ),
    contributing_factors=(
        "- {usage_capital} grew steadily for weeks without anyone looking at the long-range graph.\n"
        "- The alert threshold left almost no time to act.\n"
        "- {cause_capital}.\n"
        "- Every host carries the same load, so they all ran out together."
    ),
    events=(
        Event("detected", 0, "detection", "{first_sign_capital}"),
        Event("acknowledged", 2, "note", "Found {evidence}"),
        Event("status_posted", 0, "communication", "Status page: {symptom}"),
        Event("acknowledged", 5, "action", "{quick_fix_capital}, one host at a time"),
        Event("mitigated", 0, "note", "All hosts healthy again"),
        Event("resolved", 0, "note", "Watching {resource} for a day before closing"),
    ),
    items=(
        Item(
            "ops",
            "detect",
            "Alert on the {resource} growth rate on {hosts}, not only the level",
            "The 95% alert left minutes to act at the rate it was growing.",
        ),
        Item(
            "dev",
            "prevent",
            "{lasting_fix_capital}",
            "{cause_capital}.",
        ),
        Item(
            "ops",
            "detect",
            "Add a three-month {resource} graph to the {service} dashboard",
            "A week of history looked flat; the growth only shows over months.",
        ),
        Item(
            "ops",
            "mitigate",
            "Script {quick_fix} so it runs on one host at a time",
            "Doing it by hand under pressure took most of the outage.",
        ),
    ),
    variants=(
        Variant(
            "Disk full on the log aggregation cluster",
            "logging",
            "ops",
            ("disk", "logging"),
            {
                "resource": "disk space",
                "hosts": "the log aggregation cluster",
                "symptom": "new logs were dropped and log search showed nothing recent",
                "usage": "the volume of debug logs from one chatty service",
                "first_sign": "engineers asked in the incident channel why log search showed nothing recent",
                "evidence": "every log host's data disk at 100%",
                "quick_fix": "deleting indices older than seven days",
                "lasting_fix": "Apply a retention policy to log indices",
                "lasting": "a retention policy on the log indices",
                "cause": "nothing deleted old log indices; retention had been done by hand",
                "lucky": "No incident needed those logs while they were missing.",
            },
        ),
        Variant(
            "Memory leak in the recommendations service",
            "recommendations",
            "dev",
            ("memory", "performance"),
            {
                "resource": "memory",
                "hosts": "the recommendations hosts",
                "symptom": "product pages showed no recommendations and loaded slowly",
                "usage": "the memory used by each recommendations process",
                "first_sign": "the product page latency alert fired",
                "evidence": "the recommendations processes being killed by the kernel for lack of memory",
                "quick_fix": "restarting the recommendations processes",
                "lasting_fix": "Bound the per-request model cache in the recommendations service",
                "lasting": "a size limit on the per-request model cache",
                "cause": "a per-request model cache in the recommendations service was never evicted",
                "lucky": "Product pages fall back to no recommendations on a timeout, so buying still "
                "worked.",
            },
        ),
    ),
)

CACHE = Story(
    key="cache",
    tldr=(
        "{symptom_capital} for {to_resolve} after {trigger}. Every request went to {backend} at once; "
        "warming the cache and adding request coalescing fixed it."
    ),
    what_happened=(
        "At the start of the incident {trigger}. With the cache empty, every request for the same "
        "{thing} went to {backend} at the same moment instead of one of them.\n\n"
        "{backend_capital} slowed down under the load, requests timed out, and {consequence}. "
        "{first_sign_capital} {to_detect} after the cache emptied; the on-call engineer acknowledged "
        "{to_acknowledge} later.\n\n"
        "Warming the cache from a list of the most requested {thing_plural} brought {backend} back to "
        "normal load, and the service was working again {to_mitigate} after it started. Request "
        "coalescing, so that one request refills a key while the others wait, shipped later that week."
    ),
    why_surprised=(
        "We believed {backend} could serve the whole traffic for a few minutes if the cache was empty. "
        "That was true when it was sized, two years and three times the traffic ago.\n\n"
        "We also believed that a cache miss only slows a page down. {surprise}"
    ),
    went_well=(
        "The cache hit-rate graph made the cause clear within minutes.\n\n"
        "The warm-up script written for the last data-centre move still worked and took ten minutes to "
        "run."
    ),
    got_lucky=(
        "{lucky}\n\n"
        "{backend_capital} slowed down but never fell over, so it recovered as soon as the load dropped."
    ),
    contributing_factors=(
        "- Nothing stops many requests for the same key from refilling it at once.\n"
        "- {backend_capital} was sized for the traffic of two years ago.\n"
        "- {trigger_capital}, and nothing warned that it would empty the cache.\n"
        "- {factor_capital}."
    ),
    events=(
        Event("impact_started", 0, "note", "{trigger_capital}"),
        Event("detected", 0, "detection", "{first_sign_capital}"),
        Event("acknowledged", 2, "note", "Cache hit rate near zero; {backend} saturated"),
        Event("status_posted", 0, "communication", "Status page: {symptom}"),
        Event("mitigated", -10, "action", "Started the cache warm-up script"),
        Event("mitigated", 0, "note", "Hit rate back above 90%"),
        Event("resolved", 0, "note", "Latency normal for an hour"),
    ),
    items=(
        Item(
            "dev",
            "prevent",
            "Add request coalescing to the {service} cache",
            "Every request for the same {thing} went to {backend} at once while the cache refilled.",
        ),
        Item(
            "dev",
            "prevent",
            "{factor_fix}",
            "{factor_capital}.",
        ),
        Item(
            "ops",
            "mitigate",
            "Run the cache warm-up automatically after a flush",
            "Warming the cache is what brought {backend} back to normal load.",
        ),
        Item(
            "ops",
            "detect",
            "Alert when the {service} cache hit rate drops below 50%",
            "The hit rate was the clearest signal, and nobody was watching it.",
        ),
        Item(
            "ops",
            "process",
            "Load-test {backend} with an empty cache every quarter",
            "It was sized for the traffic of two years ago.",
        ),
    ),
    variants=(
        Variant(
            "Search results empty for logged-out visitors",
            "search",
            "dev",
            ("search", "cache"),
            {
                "symptom": "logged-out visitors saw empty search results",
                "trigger": "the search cache was flushed as part of a routine index rebuild",
                "backend": "the search cluster",
                "thing": "query",
                "thing_plural": "queries",
                "consequence": "the search page rendered the timeout as an empty result instead of an error",
                "first_sign": "the zero-results rate for logged-out searches jumped to 60%",
                "surprise": "For logged-out visitors the search page turns a timeout into an empty result, "
                "which looks like a broken shop rather than a slow one.",
                "factor": "the search page shows a timeout as an empty result",
                "factor_fix": "Show an error instead of an empty result when search times out",
                "lucky": "Logged-in visitors have a separate cache, so regular buyers were not affected.",
            },
        ),
        Variant(
            "Slow product pages after cache eviction storm",
            "web",
            "dev",
            ("cache", "performance"),
            {
                "symptom": "product pages took several seconds to load",
                "trigger": "a cache node was replaced and its share of keys was evicted at once",
                "backend": "the listings database",
                "thing": "listing",
                "thing_plural": "listings",
                "consequence": "product pages took several seconds to load",
                "first_sign": "the product page latency alert fired",
                "surprise": "Slow product pages also held web workers busy, so every other page queued "
                "behind "
                "them.",
                "factor": "replacing a cache node moves a large share of keys at once",
                "factor_fix": "Use consistent hashing with virtual nodes for the listings cache",
                "lucky": "It happened in the quietest hour of the day.",
            },
            start_hour=4,
        ),
    ),
)

RETRIED_JOB = Story(
    key="retried-job",
    tldr=(
        "A refund job that timed out was retried by the scheduler and refunded {count} orders twice over "
        "{to_resolve}. The payments team recovered the money from the acquirer; refunds now carry an "
        "idempotency key."
    ),
    what_happened=(
        "The nightly refund job sends a batch of approved refunds to the acquirer. At the start of the "
        "incident the acquirer's API slowed down; the job's run exceeded its time limit and the scheduler "
        "started it again, as configured.\n\n"
        "The second run did not know which refunds the first had already sent, because the job marks a "
        "refund as sent only at the end of the batch. {count} orders were refunded twice. The duplicate "
        "payouts alert does not exist; the first sign was the daily reconciliation report, {to_detect} "
        "after the first duplicate. The payments on-call acknowledged {to_acknowledge} later.\n\n"
        "The job was paused, the duplicates were listed from the acquirer's settlement file, and support "
        "contacted the affected sellers. The job was running again safely {to_mitigate} after the first "
        "duplicate, with refunds marked one at a time."
    ),
    why_surprised=(
        "We believed the refund job was safe to retry. The job it replaced was: it sent one refund per "
        "request with an idempotency key. The new batched version dropped the key because the acquirer's "
        "batch endpoint did not accept one.\n\n"
        "We also believed the scheduler would never start a second run while the first was still going; "
        "it does, when the first passes its time limit."
    ),
    went_well=(
        "The reconciliation report caught the duplicates the same day.\n\n"
        "The acquirer's support team reversed most of the duplicate payouts within 48 hours, and support "
        "wrote to every affected seller before any of them wrote to us."
    ),
    got_lucky=(
        "The acquirer slowed down on a night with few refunds; on a busy night after a sale the batch "
        "would have been ten times larger.\n\n"
        "Most duplicates went to sellers with an active account, so the money could be recovered."
    ),
    contributing_factors=(
        "- The batched refund job was not idempotent, and nothing in its definition said so.\n"
        "- The scheduler retries a job that passes its time limit while it may still be running.\n"
        "- A refund is marked as sent only at the end of the batch.\n"
        "- There is no alert on duplicate payouts; reconciliation is daily."
    ),
    events=(
        Event(
            "impact_started", 0, "note", "Refund job passed its time limit; scheduler started a second run"
        ),
        Event("detected", 0, "detection", "Daily reconciliation report lists {count} refunds paid twice"),
        Event("acknowledged", 2, "action", "Paused the refund job"),
        Event("status_posted", 0, "communication", "Support writing to affected sellers"),
        Event("mitigated", -5, "action", "Deployed the job marking each refund as sent when it is sent"),
        Event("mitigated", 0, "action", "Refund job resumed"),
        Event("resolved", 0, "note", "Acquirer confirmed reversal of the duplicate payouts"),
    ),
    items=(
        Item(
            "dev",
            "prevent",
            "Send an idempotency key with every refund",
            "The batched job dropped the key, so a retry paid the same refund again.",
        ),
        Item(
            "dev",
            "prevent",
            "Mark each refund as sent when the acquirer accepts it",
            "Marking the batch at the end left a second run unaware of what the first had sent.",
        ),
        Item(
            "ops",
            "prevent",
            "Stop the scheduler from starting a second run of a job that is still running",
            "The retry started while the first run was still sending refunds.",
        ),
        Item(
            "dev",
            "detect",
            "Alert on two refunds for the same order within a day",
            "Reconciliation is daily; the duplicates could have been caught in minutes.",
        ),
        Item(
            "ops",
            "process",
            "Mark in each job's definition whether it is safe to retry",
            "Nothing in the job definition said that the new version was not.",
        ),
    ),
    variants=(
        Variant(
            "Duplicate refunds issued by a retried job",
            "refunds",
            "payments",
            ("jobs", "payments"),
            {"count": "312"},
            start_hour=2,
        ),
    ),
)

VENDOR = Story(
    key="vendor",
    tldr=(
        "The card acquirer declined about {share} of card payments for {to_resolve} during an outage on "
        "their side. We switched card traffic to the backup acquirer after {to_mitigate}; the switch is "
        "being made automatic."
    ),
    what_happened=(
        "At the start of the incident the acquirer began answering a growing share of authorisations with "
        "a generic decline. Their status page stayed green for the first hour.\n\n"
        "Our decline-rate alert fired {to_detect} after the first declines, and the payments on-call "
        "acknowledged {to_acknowledge} later. Because the declines came back as ordinary card declines, "
        "the first theory was a fraud rule we had changed the day before; reverting it changed nothing.\n\n"
        "Comparing decline codes by card network showed the same generic code from every bank, which "
        "pointed at the acquirer. We called their support line, then switched card traffic to our backup "
        "acquirer, which is a configuration change; payments recovered {to_mitigate} after the start. We "
        "switched back once the acquirer confirmed their fix."
    ),
    why_surprised=(
        "We believed an acquirer outage would show up as errors or timeouts, not as declines. Our "
        "failover rule only looks at errors, so it never triggered.\n\n"
        "We also believed the acquirer's status page would tell us first. It was updated an hour after "
        "our alert fired."
    ),
    went_well=(
        "The backup acquirer was already integrated and tested, and the switch took one configuration "
        "change.\n\n"
        "The decline-code breakdown on the payments dashboard pointed at the acquirer once someone thought "
        "to look at it, and support had a clear message for sellers within {to_status}."
    ),
    got_lucky=(
        "Buyers whose card was declined mostly retried later, so most of the orders were recovered.\n\n"
        "The backup acquirer's contract had been renewed the month before; a year earlier we would not "
        "have had one."
    ),
    contributing_factors=(
        "- The acquirer reported its outage as ordinary declines.\n"
        "- The automatic failover only considers errors and timeouts.\n"
        "- A recent fraud rule change made a plausible first theory.\n"
        "- The vendor's status page lagged behind our own monitoring by an hour."
    ),
    events=(
        Event("detected", 0, "detection", "Alert: card decline rate above 15%"),
        Event("acknowledged", 4, "action", "Reverted yesterday's fraud rule change; no effect"),
        Event("status_posted", 0, "communication", "Status page: some card payments are being declined"),
        Event("mitigated", -15, "note", "Same generic decline code from every bank: acquirer-side"),
        Event("mitigated", -8, "communication", "Called the acquirer's support line"),
        Event("mitigated", -2, "action", "Switched card traffic to the backup acquirer"),
        Event("mitigated", 0, "note", "Decline rate back to normal"),
        Event("resolved", 0, "action", "Acquirer confirmed their fix; switched back"),
    ),
    items=(
        Item(
            "dev",
            "mitigate",
            "Fail over to the backup acquirer when the generic decline rate triples",
            "The failover rule only looks at errors, and this outage came back as declines.",
        ),
        Item(
            "dev",
            "detect",
            "Alert on the share of generic decline codes, by acquirer",
            "The decline-code breakdown is what pointed at the acquirer.",
        ),
        Item(
            "ops",
            "process",
            "Keep the acquirer's incident line in the payments runbook",
            "Finding the number took several minutes.",
        ),
        Item(
            "ops",
            "process",
            "Switch to the backup acquirer in a monthly drill",
            "The switch worked because it had been tested; keep it that way.",
        ),
    ),
    variants=(
        Variant(
            "Card payments declined by the acquirer",
            "payments-gateway",
            "payments",
            ("vendor", "payments"),
            {"share": "a third"},
            vendor=True,
        ),
    ),
)

STORIES: tuple[Story, ...] = (
    CHANGED_DEFAULT,
    CERTIFICATE,
    DNS_TTL,
    FAILOVER,
    QUEUE_BACKLOG,
    RESOURCE_FULL,
    CACHE,
    RETRIED_JOB,
    VENDOR,
)

# Every (story, variant), in a fixed order that spreads the stories apart.
SCENARIOS: tuple[tuple[Story, Variant], ...] = tuple(
    (story, variant)
    for index in range(max(len(story.variants) for story in STORIES))
    for story in STORIES
    if index < len(story.variants)
    for variant in (story.variants[index],)
)


def story_for(title: str) -> tuple[Story, Variant] | None:
    """The story and variant a demo incident was written from, by its title (" (again)" ignored)."""
    base = title.removesuffix(" (again)")
    for story, variant in SCENARIOS:
        if variant.title == base:
            return story, variant
    return None


def words(variant: Variant, spans: dict[str, str]) -> dict[str, str]:
    """What a story's placeholders stand for on one incident: the variant's words, then the spans.

    Each word also comes capitalised (`first_sign_capital`) and in lower case
    (`symptom_short_lower`) for the start and the middle of a sentence.
    """
    values = {"service": variant.service, **variant.words, **spans}
    values["setting_quoted"] = f"`{values['setting']}`" if "setting" in values else ""
    for name, value in list(values.items()):
        values[f"{name}_capital"] = value[:1].upper() + value[1:]
        values[f"{name}_lower"] = value[:1].lower() + value[1:]
    return values
