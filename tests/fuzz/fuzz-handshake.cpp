// The handshake after the version: security type choice, VNC auth, VeNCrypt
// (version, sub-type, then the TLS handshake on whatever bytes follow),
// SASL framing (mechanism name, client data lengths, NUL pad), ClientInit
// and, when a path lets the client in, messages.  Each display has one
// authentication configuration; a socketpair client sends a version and
// then the fuzz bytes.
//
// byte 0: bits 0-2 the display (below), bits 3-4 the RFB version
//         (3.8, 3.7, 3.3, 3.8); byte 1: split point (the password is
//         changed or expired between the halves when bit 7 of byte 0 is set)
#include <cstddef>
#include <cstdint>
#include <string>

#include <glib.h>
#include <glib/gstdio.h>

#include "fuzz-host.hpp"

namespace {

fuzzhost::Host *g_host;
std::vector<qvnc_display *> g_disps;
std::string g_dir;

void make_sasl_conf()
{
    // cyrus-sasl reads the "qemu" application's mech_list from here.  No
    // sasldb exists, so every login fails after the framing was parsed.
    char tmpl[] = "/tmp/qvnc-fuzz-sasl-XXXXXX";
    if (!g_mkdtemp(tmpl)) fuzzhost::die("mkdtemp");
    g_dir = tmpl;
    const std::string conf = "mech_list: digest-md5 scram-sha-256 plain login anonymous cram-md5\n"
                             "sasldb_path: " + g_dir + "/none.db\n";
    if (!g_file_set_contents((g_dir + "/qemu.conf").c_str(), conf.c_str(), -1, nullptr)) fuzzhost::die("qemu.conf");
    g_setenv("SASL_CONF_PATH", g_dir.c_str(), TRUE);
}

void remove_sasl_conf()
{
    g_unlink((g_dir + "/qemu.conf").c_str());
    g_rmdir(g_dir.c_str());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    make_sasl_conf();
    atexit(remove_sasl_conf);
    g_host = new fuzzhost::Host();
    g_host->add_object("secret,id=pw0,data=s3cret");
    g_host->add_object("tls-creds-anon,id=anon0,endpoint=server");
    const char *const kDisplays[] = {
        "none,password-secret=pw0",               // 2 VNC
        "none,sasl=on",                           // 20 SASL
        "none,tls-creds=anon0,password-secret=pw0", // 19 VeNCrypt TLSVnc
        "none,tls-creds=anon0,sasl=on",           // 19 VeNCrypt TLSSASL
        "none",                                   // 1 None
        "none,tls-creds=anon0",                   // 19 VeNCrypt TLSNone
        "none,password=on",                       // 2 VNC, no password set
        "none,sasl=on,password=on",               // 2 VNC (password wins)
    };
    for (const char *opts : kDisplays) {
        qvnc_display *d = g_host->open(opts);
        g_host->set_surface(d, 32, 16, QVNC_FORMAT_X8R8G8B8, 7);
        g_disps.push_back(d);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const uint8_t cfg = data[0], split = data[1];
    data += 2;
    size -= 2;
    qvnc_display *d = g_disps[cfg & 7];
    static const char *const kVersions[4] = {"RFB 003.008\n", "RFB 003.007\n", "RFB 003.003\n", "RFB 003.008\n"};
    const std::string prefix = kVersions[(cfg >> 3) & 3];
    g_host->run_client(d, false, prefix, data, size, split, [&] {
        if (cfg & 0x80) {
            // The monitor changes the password while a client is in the
            // middle of authenticating (empty: CVE-2011-0011).
            qvnc_display_set_password(d, (cfg & 0x40) ? "" : "other", nullptr);
            qvnc_display_expire_password(d, (cfg & 0x20) ? 0 : -1, nullptr);
        }
    });
    if (cfg & 0x80) {
        qvnc_display_set_password(d, "s3cret", nullptr);
        qvnc_display_expire_password(d, -1, nullptr);
    }
    return 0;
}
