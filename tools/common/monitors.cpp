// The front end's monitors: the one part of it that calls into libqvnc,
// kept out of the pure parser so unit tests link without the library.
#include <memory>

#include "front-end.hpp"

namespace qvnc_tools {
namespace {

struct ErrorFree {
    void operator()(qvnc_error *err) const { qvnc_error_free(err); }
};
using ErrorPtr = std::unique_ptr<qvnc_error, ErrorFree>;

} // namespace

bool add_monitors(qvnc_monitor *monitor, FrontEnd &front, std::string &error)
{
    qvnc_error *raw = nullptr;
    for (const std::string &spec : front.chardevs) {
        raw = nullptr;
        if (!qvnc_monitor_add_chardev(monitor, spec.c_str(), &raw)) {
            ErrorPtr err(raw);
            // libvirt's serial consoles and guest-agent channels: devices
            // that are not emulated here.
            if (qvnc_error_get_code(err.get()) == QVNC_ERR_UNSUPPORTED) {
                front.ignored.push_back("-chardev");
                continue;
            }
            error = "-chardev " + spec + ": " + qvnc_error_get_message(err.get());
            return false;
        }
    }
    for (const std::string &spec : front.mons) {
        raw = nullptr;
        if (!qvnc_monitor_add(monitor, spec.c_str(), &raw)) {
            ErrorPtr err(raw);
            error = "-mon " + spec + ": " + qvnc_error_get_message(err.get());
            return false;
        }
    }
    for (const FrontEnd::LegacyMonitor &m : front.monitors) {
        raw = nullptr;
        if (!qvnc_monitor_add_legacy(monitor, m.spec.c_str(), m.qmp, &raw)) {
            ErrorPtr err(raw);
            error = std::string(m.qmp ? "-qmp " : "-monitor ") + m.spec + ": " + qvnc_error_get_message(err.get());
            return false;
        }
    }
    return true;
}

} // namespace qvnc_tools
