"""health_check and round_robin: WAN failover on init's service manager.

    load("//userland/init:services.bzl", "health_check", "round_robin")

    pppoe(name = "wan_pppoe", interface = "eth0", ...)
    dhcp_client(name = "wan_lte", interface = "wwan0")

    health_check(
        name = "wan_pppoe_health",
        service = ":wan_pppoe",
        ping = "9.9.9.9",           # through the service's interface
        interval = 10,
        threshold = 3,
        action = "report",          # round_robin acts on it
    )

    round_robin(
        name = "wan",
        services = [":wan_pppoe", ":wan_lte"],
        health_checks = [":wan_pppoe_health"],
        after = ["firewall"],
    )

Both are longruns written in busybox sh over `rc` (init's control
command); their options are checked at analysis, naming the attribute.

health_check runs a check every `interval` seconds once its service is
up: `ping` (one ICMP echo, 2 s timeout, through the interface the service
published in its outputs) or `command` (a shell command; exit 0 is
healthy). After `threshold` consecutive failures it logs so, counts the
trip in its outputs (`tripped`, a number), and with `action = "restart"`
restarts the service (`rc restart`); with `action = "report"` it only
counts, for a round_robin to act on.

round_robin runs one of `services` at a time (the others stay down: they
are in the image's database as controlled services, not its
dependencies), starting with the first. It moves to the next, in a
circle, when the current one is not up within `up_timeout` seconds, stops
being up for `grace` seconds (a PPPoE link that keeps redialling), or its
health check (`health_checks`) trips. It publishes the current service's
outputs as its own (ifname, address, router, peer, dns, domain,
resolv.conf, and `active`: the current service's name), so that the
firewall's zone, dnsmasq's upstreams and services that depend on the
round_robin follow whichever is running. It is ready once the first
service is up. It never moves back by itself: when the first service
recovers, the current one stays until it fails in turn.
"""

load(
    "//rules/service:defs.bzl",
    "InterfaceInfo",
    "SERVICE_ATTRS",
    "ServiceInfo",
    "ip_error",
    "shell_quote",
    "write_service",
)

_OUTPUTS_DIR = "/run/services/outputs"

# What round_robin mirrors from its current service's outputs.
_MIRRORED = ["ifname", "address", "router", "peer", "dns", "domain", "resolv.conf"]

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _range(attr, v, lo, hi):
    if v < lo or v > hi:
        _fail(attr, "%d is out of range: want %d..%d" % (v, lo, hi))

def _health_check_impl(ctx):
    svc = ctx.attr.service[ServiceInfo].name
    if bool(ctx.attr.ping) == bool(ctx.attr.command):
        _fail("ping", "want exactly one of ping (an address) and command")
    if ctx.attr.ping:
        err = ip_error(ctx.attr.ping)
        if err:
            _fail("ping", err)
        if InterfaceInfo not in ctx.attr.service:
            _fail("ping", "%s owns no network interface to ping through (no InterfaceInfo): use command" % ctx.attr.service.label)
        ping = "ping6" if ":" in ctx.attr.ping else "ping"
        check = 'i=$(cat %s 2>/dev/null) && [ -n "$i" ] && %s -q -c 1 -W 2 -I "$i" %s >/dev/null 2>&1' % (
            shell_quote("%s/%s/ifname" % (_OUTPUTS_DIR, svc)),
            ping,
            shell_quote(ctx.attr.ping),
        )
    else:
        check = "( %s ) >/dev/null 2>&1" % ctx.attr.command
    _range("interval", ctx.attr.interval, 1, 3600)
    _range("threshold", ctx.attr.threshold, 1, 100)
    if ctx.attr.action not in ("restart", "report"):
        _fail("action", "%r: want \"restart\" or \"report\"" % ctx.attr.action)
    s = shell_quote(svc)
    act = "rc restart %s" % s if ctx.attr.action == "restart" else ":"
    run = """svc={s}
n=0
trips=0
while :; do
	sleep {interval}
	if {check}; then
		n=0
		continue
	fi
	n=$((n + 1))
	echo "health_check: $svc: check failed ($n/{threshold})" >&2
	if [ "$n" -ge {threshold} ]; then
		trips=$((trips + 1))
		echo "health_check: $svc: unhealthy after {threshold} failures: {action}" >&2
		echo "$trips" >"$OUTPUTS/tripped.tmp" && mv "$OUTPUTS/tripped.tmp" "$OUTPUTS/tripped"
		{act}
		n=0
	fi
done
""".format(
        interval = ctx.attr.interval,
        check = check,
        s = s,
        threshold = ctx.attr.threshold,
        action = ctx.attr.action,
        act = act,
    )
    return write_service(ctx, "longrun", {"run": run}, ctx.attr.deps + [ctx.attr.service]) + [
        HealthCheckInfo(service = svc, action = ctx.attr.action),
    ]

HealthCheckInfo = provider(
    doc = "A health_check: what round_robin needs to know of it.",
    fields = {
        "service": "The name of the service it checks.",
        "action": "\"restart\" or \"report\".",
    },
)

health_check = rule(
    implementation = _health_check_impl,
    doc = "Checks a service every `interval` seconds; after `threshold` failures, restarts it or reports (see the file's doc).",
    attrs = dict(SERVICE_ATTRS, **{
        "packages": attr.label_list(default = ["//userland/busybox"], doc = "Packages the service needs in the image (default: busybox)."),
        "service": attr.label(mandatory = True, providers = [ServiceInfo], doc = "The service checked (a dependency)."),
        "ping": attr.string(doc = "An IP address pinged through the service's interface."),
        "command": attr.string(doc = "A shell command; exit 0 is healthy."),
        "interval": attr.int(default = 10, doc = "Seconds between checks."),
        "threshold": attr.int(default = 3, doc = "Consecutive failures that trip the check."),
        "action": attr.string(default = "restart", doc = "\"restart\" the service, or \"report\" only (for round_robin)."),
    }),
)

def _round_robin_impl(ctx):
    members = [t[ServiceInfo].name for t in ctx.attr.services]
    if len(members) < 2:
        _fail("services", "want at least two services to move between")
    for i, m in enumerate(members):
        if m in members[:i]:
            _fail("services", "%r is listed twice" % m)
    for t in ctx.attr.services:
        if t[ServiceInfo].type != "longrun":
            _fail("services", "%s is a %s: want longruns (a service that stays up while it works)" % (t.label, t[ServiceInfo].type))
    _range("up_timeout", ctx.attr.up_timeout, 1, 3600)
    _range("grace", ctx.attr.grace, 1, 3600)

    hc_of = {}
    for hc in ctx.attr.health_checks:
        member = hc[HealthCheckInfo].service
        if member not in members:
            _fail("health_checks", "%s checks %r, which is not among services (%s)" % (hc.label, member, ", ".join(members)))
        if member in hc_of:
            _fail("health_checks", "%r has two health checks" % member)
        if hc[HealthCheckInfo].action != "report":
            _fail("health_checks", "%s has action %r: want \"report\" (round_robin stops and starts the services itself)" % (hc.label, hc[HealthCheckInfo].action))
        hc_of[member] = hc[ServiceInfo].name

    case = "\n".join(["\t%s) echo %s ;;" % (shell_quote(m), shell_quote(hc_of.get(m, ""))) for m in members])
    run = """# round_robin: one of these at a time (see //userland/init:services.bzl).
members={members}
out=$OUTPUTS
files={files}
ready=
check_of() {{
	case "$1" in
{case}
	esac
}}
publish() {{
	for f in $files; do
		src=/run/services/outputs/$1/$f
		if [ -f "$src" ]; then
			cmp -s "$src" "$out/$f" || {{ cp "$src" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"; }}
		else
			rm -f "$out/$f"
		fi
	done
}}
withdraw() {{
	for f in $files active; do rm -f "$out/$f"; done
}}
is_up() {{
	case "$(rc status "$1" 2>/dev/null)" in
	*" state=ready"* | *" state=up"*) return 0 ;;
	esac
	return 1
}}
# A restart begins again from the first service: stop what ran before.
for m in $members; do
	hc=$(check_of "$m")
	[ -n "$hc" ] && rc change -d "$hc" >/dev/null 2>&1
	rc change -d "$m" >/dev/null 2>&1
done
withdraw
while :; do
	for m in $members; do
		hc=$(check_of "$m")
		echo "round_robin: starting $m" >&2
		if ! rc change -u -t {up_ms} "$m" >/dev/null 2>&1; then
			echo "round_robin: $m not up in {up_timeout} s: next" >&2
			rc change -d "$m" >/dev/null 2>&1
			continue
		fi
		[ -n "$hc" ] && rc change -u "$hc" >/dev/null 2>&1
		printf '%s\\n' "$m" >"$out/active.tmp" && mv "$out/active.tmp" "$out/active"
		publish "$m"
		echo "round_robin: $m is up" >&2
		if [ -z "$ready" ]; then
			ready=1
			echo >&3
			exec 3>&-
		fi
		down=0
		while :; do
			usleep 500000
			publish "$m"
			if [ -n "$hc" ] && [ -s "/run/services/outputs/$hc/tripped" ]; then
				echo "round_robin: $m: its health check $hc tripped: next" >&2
				break
			fi
			if is_up "$m"; then
				down=0
			else
				down=$((down + 1))
				if [ "$down" -ge {grace_ticks} ]; then
					echo "round_robin: $m not up for {grace} s: next" >&2
					break
				fi
			fi
		done
		[ -n "$hc" ] && rc change -d "$hc" >/dev/null 2>&1
		rc change -d "$m" >/dev/null 2>&1
		withdraw
	done
done
""".format(
        members = shell_quote(" ".join(members)),
        files = shell_quote(" ".join(_MIRRORED)),
        case = case,
        up_ms = ctx.attr.up_timeout * 1000,
        up_timeout = ctx.attr.up_timeout,
        grace = ctx.attr.grace,
        grace_ticks = ctx.attr.grace * 2,
    )

    # What the members must receive from their zone, for the firewall.
    inbound = []
    for t in ctx.attr.services:
        if InterfaceInfo in t:
            for p in t[InterfaceInfo].inbound:
                if p not in inbound:
                    inbound.append(p)
    return write_service(
        ctx,
        "longrun",
        {"run": run, "notification-fd": "3\n"},
        ctx.attr.deps,
        controls = ctx.attr.services + ctx.attr.health_checks,
        interface = {"ifname": "", "inbound": inbound},
    )

round_robin = rule(
    implementation = _round_robin_impl,
    doc = "Runs one of several services at a time and moves to the next when it fails (see the file's doc).",
    attrs = dict(SERVICE_ATTRS, **{
        "packages": attr.label_list(default = ["//userland/busybox"], doc = "Packages the service needs in the image (default: busybox)."),
        "services": attr.label_list(mandatory = True, providers = [ServiceInfo], doc = "The services, in order of preference (longruns; not dependencies: they stay down until chosen)."),
        "health_checks": attr.label_list(
            providers = [ServiceInfo, HealthCheckInfo],
            doc = "health_check targets (action = \"report\") of some of the services: a trip moves to the next service.",
        ),
        "up_timeout": attr.int(default = 60, doc = "Seconds a service has to come up."),
        "grace": attr.int(default = 20, doc = "Seconds a service may be down (e.g. redialling) before the next is tried."),
    }),
)
