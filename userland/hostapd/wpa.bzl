"""wpa_build: a program of Debian's wpa source (hostapd, wpa_supplicant).

Both are built the same way, from their own directory of the source with
its Makefile and a .config: the nl80211 driver with libnl 3, the control
socket, OpenSSL's crypto with SAE (WPA3), getrandom(2) and epoll(7), plus
what the program adds. See //userland/hostapd and //userland/wpa_supplicant
for what each option means.
"""

load("//rules/pkg:defs.bzl", "pkg_build")

# The .config lines both programs have.
_COMMON_CONFIG = [
    "CONFIG_DRIVER_NL80211=y",
    "CONFIG_LIBNL32=y",
    "CONFIG_CTRL_IFACE=y",
    "CONFIG_TLS=openssl",
    "CONFIG_SAE=y",
    "CONFIG_GETRANDOM=y",
    "CONFIG_ELOOP_EPOLL=y",
]

# Linux UAPI headers (linux/if_packet.h, ...): Debian's
# linux-libc-dev-<arch>-cross (as busybox). CFLAGS from the environment,
# so that the Makefile's own additions stay; without -g (debug info would
# hold the sysroot's absolute path). libnl and OpenSSL from $deps (no
# pkg-config). Sections per function and --gc-sections: the linker drops
# what is unused (most of libcrypto; see //userland/openssl).
_SCRIPT = """
cd "$src/{program}"
cat >.config <<'CONFIG'
{config}
CONFIG
gnu=${{TC_PREFIX##*/}}
export CFLAGS="-MMD -O2 -Wall -ffunction-sections -fdata-sections -I$deps/usr/include -idirafter /usr/${{gnu%-}}/include"
export LDFLAGS="-L$deps/usr/lib -Wl,--gc-sections"
make -j"$jobs" V=1 LIBNL_INC="$deps/usr/include/libnl3" {program}
mkdir -p "$staging/usr/sbin"
install -m 755 {program} "$staging/usr/sbin/"
"""

def wpa_build(name, config = [], **kwargs):
    """Builds usr/sbin/NAME from the wpa source's NAME directory.

    Args:
      name: hostapd or wpa_supplicant (the directory, the make target and
        the installed program).
      config: .config lines beyond the common ones.
      **kwargs: pkg_build's other attributes (visibility, ...).
    """
    pkg_build(
        name = name,
        src = "@debian_sources//:hostapd",
        binaries = ["usr/sbin/" + name],
        script = _SCRIPT.format(program = name, config = "\n".join(_COMMON_CONFIG + config)),
        deps = [
            "//userland/libnl",
            "//userland/openssl",
        ],
        **kwargs
    )
