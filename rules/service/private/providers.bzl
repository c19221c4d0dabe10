"""Providers of the service rules."""

ServiceInfo = provider(
    doc = """A service in s6-rc source format, with everything it needs.

Each service target writes its s6-rc source directory (a directory named
after the service, inside `srcdir`) at build time; service_db compiles the
transitive closure with //tools:svc-compile.""",
    fields = {
        "name": "The service's name on the device (string).",
        "type": "\"longrun\", \"oneshot\" or \"bundle\".",
        "srcdir": "Path (from the exec root) of the directory that holds this service's source directory.",
        "files": "depset of the files of this service's source directory.",
        "transitive_srcdirs": "depset of `srcdir` of this service and every service it needs.",
        "transitive_files": "depset of the source files of this service and every service it needs.",
        "kernel_fragments": "depset of kernel config fragments the services need.",
        "packages": "depset of the package targets the services need in the image.",
        "notes": "depset of strings: what the image's builder should know about it (e.g. \"no SSH server: ...\"); they end up in the size report.",
    },
)

InterfaceInfo = provider(
    doc = """A service that owns a network interface (an address, a DHCP client,
a bridge, a PPPoE link): what other services (the firewall's zones, dnsmasq)
need to know of it at analysis time. At run time the service writes the
interface's name to $OUTPUTS/ifname once the interface exists, and init
removes its outputs when it stops: that is how the firewall's zone sets
follow interfaces that come and go.""",
    fields = {
        "service": "The service's name on the device (its outputs are /run/services/outputs/<service>).",
        "ifname": "The interface's name when known at build time, else \"\" (e.g. a PPP unit chosen at run time).",
        "addresses": "list of \"ADDRESS/PREFIXLEN\": the static addresses the service puts on the interface.",
        "inbound": "list of \"PROTO/PORT\": what the service must receive from its interface's zone (a DHCP client: udp/68).",
    },
)

ServiceDbInfo = provider(
    doc = "A compiled service database and what its services need from the image.",
    fields = {
        "db": "The compiled database file (svc-compile output).",
        "kernel_fragments": "depset of kernel config fragments the services need.",
        "packages": "depset of package targets the services need.",
        "notes": "depset of strings: the services' notes for the size report.",
    },
)
