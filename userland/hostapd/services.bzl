"""hostapd: a wifi access point (WPA2-PSK), a service template with typed options.

    load("//userland/hostapd:services.bzl", "hostapd")

    hostapd(
        name = "wifi",
        interface = "wlan0",
        ssid = "home",
        country = "DE",
        band = "2g",
        channel = 6,
        passphrase_file = "//:wifi_passphrase",  # a file git ignores
        bridge = ":lan_bridge",     # clients join the LAN
    )

A macro that makes `NAME`, the longrun, and `NAME_config`: hostapd's
configuration, /etc/hostapd/SERVICE.conf, mode 0600 (it holds the
passphrase). The longrun runs `hostapd` on it in the foreground, logging
to its stderr; the supervisor restarts it when it dies.

The access point: nl80211 (any mac80211 driver), 802.11n, and 802.11ac on
5 GHz; WPA2-PSK with CCMP only, management frame protection optional
(PMF, 802.11w); the regulatory domain of `country` advertised (802.11d).
With `bridge`, hostapd adds the interface to that bridge (the LAN's), so
that clients get the LAN's DHCP and firewall zone.

With `wpa3 = True` the access point also offers WPA3-Personal (SAE) with
the same passphrase, beside WPA2-PSK (transition mode, as OpenWrt's
"sae-mixed"): WPA3 clients use SAE and PMF, older ones WPA2.

The passphrase comes from `passphrase_file`, a file of the user's (one
line, checked when the configuration is built, by //tools/secretconf), or
from `passphrase`, a string in the BUILD file (tests). A device's package
may take the SSID and the country from string flags instead
(`ssid_flag`, `country_flag`), so that users set them in .bazelrc.user.

Bad options fail at analysis, naming the attribute: the interface, an SSID
of 1 to 32 bytes without control characters, a country of two capital
letters, a channel of the band, a passphrase of 8 to 63 printable ASCII
characters (WPA2's rule, IEEE 802.11i H.4.1), a bridge that owns no
interface.
"""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//rules/rootfs:defs.bzl", "FsInfo", "fs_entry", "write_fs_fragment")
load(
    "//rules/service:defs.bzl",
    "InterfaceInfo",
    "SERVICE_ATTRS",
    "ServiceInfo",
    "first_unprintable",
    "ifname_error",
    "shell_quote",
    "template_service_name",
    "write_service",
)

_DIR = "/etc/hostapd"

# The 20 MHz channels of each band (2.4 GHz: 14 only in Japan, and for
# 802.11b; 5 GHz: UNII-1 to UNII-3), which hostapd checks again against
# the regulatory domain when it starts.
_CHANNELS = {
    "2g": list(range(1, 14)),
    "5g": [36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144, 149, 153, 157, 161, 165],
}

# WPA2's passphrase: 8 to 63 printable ASCII characters (IEEE 802.11i
# H.4.1); 64 characters would be read as a hex PSK.
_PASS_MIN = 8
_PASS_MAX = 63

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _printable(attr, s, what):
    c = first_unprintable(s)
    if c != None:
        _fail(attr, "contains %r: want %s of printable ASCII (a control character would end the line in hostapd's file)" % (c, what))

HostapdConfigInfo = provider(
    doc = "hostapd's configuration written at build time (the NAME_config target of hostapd).",
    fields = {
        "path": "Its path on the device.",
        "interface": "The wifi interface.",
    },
)

def _setting(ctx, attr):
    """The attribute's value, or its flag's (ATTR_flag) when that is given."""
    flag = getattr(ctx.attr, attr + "_flag")
    if flag and getattr(ctx.attr, attr):
        _fail(attr, "given with %s_flag: want one of them" % attr)
    if flag:
        return flag[BuildSettingInfo].value, "%s (--%s)" % (attr, flag.label)
    return getattr(ctx.attr, attr), attr

def _passphrase_file(ctx):
    """The passphrase's file, or None for the string attribute."""
    t = ctx.attr.passphrase_file
    if not t:
        if ctx.attr.passphrase_hint:
            _fail("passphrase_hint", "given without passphrase_file")
        return None
    if ctx.attr.passphrase:
        _fail("passphrase", "given with passphrase_file: want one of them")
    files = t.files.to_list()
    if len(files) != 1:
        _fail("passphrase_file", "%s gives %s: want the one file that holds the passphrase. %s" % (
            t.label,
            "no file" if not files else "%d files (%s)" % (len(files), ", ".join([f.short_path for f in files])),
            ctx.attr.passphrase_hint,
        ))
    return files[0]

def _config_impl(ctx):
    svc = template_service_name(ctx)
    err = ifname_error(ctx.attr.interface)
    if err:
        _fail("interface", err)
    ssid, ssid_attr = _setting(ctx, "ssid")
    if not ssid or len(ssid) > 32:
        _fail(ssid_attr, "%r: want 1 to 32 bytes" % ssid)
    _printable(ssid_attr, ssid, "an SSID")
    c, country_attr = _setting(ctx, "country")
    if len(c) != 2 or [x for x in c.elems() if x not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]:
        _fail(country_attr, "%r: want an ISO 3166-1 alpha-2 code, two capital letters (e.g. DE, US), the country the access point is in" % c)
    if ctx.attr.band not in _CHANNELS:
        _fail("band", "%r: want 2g or 5g" % ctx.attr.band)
    if ctx.attr.channel not in _CHANNELS[ctx.attr.band]:
        _fail("channel", "%d is not a 20 MHz channel of the %s band: want one of %s" % (ctx.attr.channel, ctx.attr.band, _CHANNELS[ctx.attr.band]))
    secret = _passphrase_file(ctx)
    p = ctx.attr.passphrase
    if not secret:
        if len(p) < _PASS_MIN or len(p) > _PASS_MAX:
            _fail("passphrase", "%d characters: want %d to %d (WPA2-PSK), or passphrase_file" % (len(p), _PASS_MIN, _PASS_MAX))
        _printable("passphrase", p, "a passphrase")
    bridge = ""
    if ctx.attr.bridge:
        t = ctx.attr.bridge
        if InterfaceInfo not in t or not t[InterfaceInfo].ifname or t[InterfaceInfo].ifname.startswith("$"):
            _fail("bridge", "%s does not own a network interface known at build time: want the LAN's bridge service" % t.label)
        bridge = t[InterfaceInfo].ifname
        if bridge == ctx.attr.interface:
            _fail("bridge", "%r is the wifi interface itself" % bridge)

    lines = [
        "# hostapd configuration of the service %s (%s), written at build time." % (svc, ctx.label),
        "interface=" + ctx.attr.interface,
    ] + (["bridge=" + bridge] if bridge else []) + [
        "driver=nl80211",
        "ctrl_interface=/run/hostapd",
        "ssid=" + ssid,
        "utf8_ssid=1",
        "country_code=" + c,
        "ieee80211d=1",
        "hw_mode=" + ("g" if ctx.attr.band == "2g" else "a"),
        "channel=%d" % ctx.attr.channel,
        "ieee80211n=1",
    ] + (["ieee80211ac=1"] if ctx.attr.band == "5g" else []) + [
        "wmm_enabled=1",
        "auth_algs=1",
        "wpa=2",
        "wpa_key_mgmt=WPA-PSK" + (" SAE" if ctx.attr.wpa3 else ""),
        "rsn_pairwise=CCMP",
        # PMF where the client has it (802.11w).
        "ieee80211w=1",
    ] + ([
        # WPA3-Personal beside WPA2 (transition mode), with the same
        # passphrase: SAE clients must use PMF, as WPA3 requires; both
        # ways to derive the password element (hunting-and-pecking and
        # hash-to-element).
        "sae_require_mfp=1",
        "sae_pwe=2",
    ] if ctx.attr.wpa3 else [])
    path = "%s/%s.conf" % (_DIR, svc)
    out = ctx.actions.declare_file(ctx.label.name + path)
    if not secret:
        ctx.actions.write(out, "\n".join(lines + ["wpa_passphrase=" + p]) + "\n")
    else:
        # The passphrase is read, checked and appended when the file is
        # built: its contents are not known at analysis.
        template = ctx.actions.declare_file(ctx.label.name + path + ".in")
        ctx.actions.write(template, "\n".join(lines) + "\n")
        args = ctx.actions.args()
        args.add("-template", template)
        args.add("-secret", secret)
        args.add("-name", "%s (%s)" % (secret.short_path, ctx.attr.passphrase_file.label))
        args.add("-key", "wpa_passphrase=")
        args.add("-min", str(_PASS_MIN))
        args.add("-max", str(_PASS_MAX))
        args.add("-what", "WPA passphrase")
        args.add("-out", out)
        ctx.actions.run(
            executable = ctx.executable._secretconf,
            arguments = [args],
            inputs = [template, secret],
            outputs = [out],
            mnemonic = "HostapdConf",
            progress_message = "Writing hostapd's configuration %s with the passphrase of %s" % (path, secret.short_path),
        )
    return [
        DefaultInfo(files = depset([out])),
        # The passphrase: root only.
        write_fs_fragment(ctx, [fs_entry(path, "file", 0o600, str(ctx.label), source = out.path)], [out]),
        HostapdConfigInfo(path = path, interface = ctx.attr.interface),
    ]

_hostapd_config = rule(
    implementation = _config_impl,
    doc = "hostapd's configuration, checked and written at build time (made by the hostapd macro).",
    attrs = {
        "service": attr.string(mandatory = True),
        "service_name": attr.string(),
        "interface": attr.string(mandatory = True),
        "ssid": attr.string(),
        "ssid_flag": attr.label(providers = [BuildSettingInfo]),
        "country": attr.string(),
        "country_flag": attr.label(providers = [BuildSettingInfo]),
        "band": attr.string(),
        "channel": attr.int(),
        "passphrase": attr.string(),
        "passphrase_file": attr.label(allow_files = True),
        "passphrase_hint": attr.string(),
        "_secretconf": attr.label(default = "//tools/secretconf", executable = True, cfg = "exec"),
        "wpa3": attr.bool(),
        "bridge": attr.label(providers = [ServiceInfo]),
    },
)

def _service_impl(ctx):
    c = ctx.attr.config[HostapdConfigInfo]
    run = "\n".join([
        "mkdir -p /run/hostapd",
        "exec hostapd %s" % shell_quote(c.path),
    ]) + "\n"
    return write_service(
        ctx,
        "longrun",
        {"run": run},
        ctx.attr.deps,
        packages = ctx.attr.packages + [ctx.attr.config],
    )

_SERVICE_ATTRS = dict(SERVICE_ATTRS)
_SERVICE_ATTRS.update({
    "packages": attr.label_list(
        default = ["//userland/hostapd", "//userland/busybox"],
        doc = "Packages the service needs in the image (default: hostapd, busybox); its configuration is added.",
    ),
    "kernel_fragments": attr.label_list(allow_files = True, default = ["//kernel:features/wifi.config"]),
    "config": attr.label(mandatory = True, providers = [HostapdConfigInfo, FsInfo]),
})

_hostapd_service = rule(
    implementation = _service_impl,
    doc = "The hostapd longrun (made by the hostapd macro).",
    attrs = _SERVICE_ATTRS,
)

def hostapd(
        name,
        interface,
        ssid = "",
        country = "",
        passphrase = "",
        passphrase_file = None,
        passphrase_hint = "",
        ssid_flag = None,
        country_flag = None,
        band = "2g",
        channel = 6,
        bridge = None,
        wpa3 = False,
        service_name = "",
        deps = [],
        **kwargs):
    """A wifi access point with WPA2-PSK (see the file's doc).

    Args:
      name: the service's target (and its name on the device, unless
        service_name); NAME_config is its configuration's.
      interface: the wifi interface, e.g. wlan0.
      ssid: the network's name, 1 to 32 bytes.
      country: the regulatory domain, ISO 3166-1 alpha-2 (DE, US, ...).
      passphrase: WPA2's passphrase, 8 to 63 printable ASCII characters
        (in a root-only file on the device); or
      passphrase_file: a file holding it on one line (a label; a
        filegroup must give exactly one file), checked when built.
      passphrase_hint: what to tell the user when passphrase_file gives
        no file (where to put it, which flag points at it).
      ssid_flag: a string flag whose value is the SSID, instead of ssid.
      country_flag: a string flag whose value is the country, instead of
        country.
      band: "2g" (2.4 GHz) or "5g".
      channel: a 20 MHz channel of the band.
      bridge: the service of the bridge the interface joins (the LAN's).
      wpa3: also offer WPA3-Personal (SAE), WPA2/WPA3 transition mode.
      service_name: the name on the device, if not `name`.
      deps: services needed besides the bridge.
      **kwargs: the service's other attributes (after, packages,
        kernel_fragments, visibility, tags, testonly...).
    """
    common = {k: kwargs[k] for k in ("tags", "testonly", "visibility", "compatible_with", "target_compatible_with") if k in kwargs}
    _hostapd_config(
        name = name + "_config",
        service = name,
        service_name = service_name,
        interface = interface,
        ssid = ssid,
        country = country,
        band = band,
        channel = channel,
        passphrase = passphrase,
        passphrase_file = passphrase_file,
        passphrase_hint = passphrase_hint,
        ssid_flag = ssid_flag,
        country_flag = country_flag,
        wpa3 = wpa3,
        bridge = bridge,
        **common
    )
    _hostapd_service(
        name = name,
        config = ":" + name + "_config",
        service_name = service_name,
        deps = ([bridge] if bridge else []) + deps,
        **kwargs
    )
