// The monitor's input through its public C ABI: an HMP command line
// (qvnc_monitor_hmp: tokenizer, argument types, the commands) or a QMP
// request (qvnc_monitor_qmp: JSON, schema checks, the commands), on a
// context with two displays without listeners.
//
// byte 0 bit 0: HMP (0) or QMP (1); the rest is the text (up to a NUL).
//
// QMP display-update opens listening sockets (even UNIX sockets at any
// path) and is the only command that reaches outside the process, so
// inputs that could name it are skipped: "update" in any case, and JSON
// \u escapes that could spell it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <glib.h>

#include "fuzz-host.hpp"
#include "qvnc-monitor.h"

namespace {

fuzzhost::Host *g_host;
qvnc_monitor *g_mon;

[[noreturn]] void violated(const char *what, const std::string &input)
{
    fprintf(stderr, "==fuzz== monitor contract violated: %s (input %zu bytes)\n", what, input.size());
    __builtin_trap();
}

bool reaches_outside(const std::string &text)
{
    gchar *lower = g_ascii_strdown(text.c_str(), static_cast<gssize>(text.size()));
    const bool bad = strstr(lower, "update") != nullptr || strstr(lower, "\\u") != nullptr;
    g_free(lower);
    return bad;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    g_host = new fuzzhost::Host();
    g_host->add_object("secret,id=pw0,data=s3cret");
    qvnc_display *a = g_host->open("none,password-secret=pw0");
    qvnc_display *b = g_host->open("none,id=second,sasl=on");
    g_host->set_surface(a, 16, 16, QVNC_FORMAT_X8R8G8B8, 1);
    g_host->set_surface(b, 16, 16, QVNC_FORMAT_X8R8G8B8, 2);
    qvnc_error *err = nullptr;
    g_mon = qvnc_monitor_new(g_host->ctx, nullptr, nullptr, &err);
    if (!g_mon) fuzzhost::die("qvnc_monitor_new", err);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const bool qmp = data[0] & 1;
    std::string text(reinterpret_cast<const char *>(data + 1), size - 1);
    text = text.c_str(); // a C string: up to the first NUL
    if (reaches_outside(text)) return 0;
    char *out = qmp ? qvnc_monitor_qmp(g_mon, text.c_str()) : qvnc_monitor_hmp(g_mon, text.c_str());
    if (!out) violated("NULL reply to a well-formed C string", text);
    if (qmp) {
        // A QMP reply is one JSON object, no line terminator.
        const size_t n = strlen(out);
        if (n < 2 || out[0] != '{' || out[n - 1] != '}') violated("QMP reply is not an object", text);
        if (strchr(out, '\n')) violated("QMP reply spans lines", text);
    } else {
        // Every HMP line ends in \r\n.
        // Except when QEMU's "unsupported option -%c" prints the NUL at the
        // end of the line: the C string stops there.
        const size_t n = strlen(out);
        const bool nul_option = n >= 8 && strcmp(out + n - 8, "option -") == 0;
        if (n > 0 && !nul_option && (n < 2 || out[n - 2] != '\r' || out[n - 1] != '\n'))
            violated("HMP output does not end in \\r\\n", text);
    }
    qvnc_free(out);
    g_host->settle();
    return 0;
}
