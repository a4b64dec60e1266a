#include "monitor.hpp"

#include <algorithm>
#include <cctype>

#include "context.hpp"
#include "hmp.hpp"
#include "server.hpp"
#include "session.hpp"
#include "vnc-ops.hpp"

namespace qvnc::monitor {

const char *run_state_name(RunState s)
{
    switch (s) {
    case RunState::Running: return "running";
    case RunState::Paused: return "paused";
    case RunState::Prelaunch: return "prelaunch";
    }
    return "running";
}

Monitor::Monitor(Context &ctx, HostOps ops)
    : ctx_(ctx), ops_(std::move(ops)), schema_(Schema::builtin())
{
    api_state_.negotiated = true;
    observer_ = ctx_.add_client_observer(
        [this](vnc::Server &s, qvnc_client_event ev, const vnc::Connection &c) {
            on_client_event(s, static_cast<int>(ev), c);
        });
}

Monitor::~Monitor()
{
    ctx_.remove_client_observer(observer_);
    quit_idle_.reset();
    // Replies already queued still reach their clients.
    for (auto &c : chardevs_) {
        c->flush(200);
    }
    chardevs_.clear();
}

// ---- run state ------------------------------------------------------------------

void Monitor::set_state(RunState s, bool notify_host)
{
    bool was_running = running();
    state_ = s;
    if (was_running == running()) {
        return;
    }
    emit_event(running() ? "RESUME" : "STOP", nullptr);
    if (notify_host && ops_.run_state_changed) {
        ops_.run_state_changed(running());
    }
}

void Monitor::set_run_state(RunState s) { set_state(s, false); }

void Monitor::cont()
{
    if (!running()) {
        set_state(RunState::Running, true);
    }
}

void Monitor::stop()
{
    // QEMU's vm_stop() changes nothing unless the guest runs (a prelaunch
    // guest stays "prelaunch").
    if (running()) {
        set_state(RunState::Paused, true);
    }
}

void Monitor::request_quit()
{
    if (quit_pending_) {
        return;
    }
    quit_pending_ = true;
    quit_idle_ = io::add_idle(ctx_.main_context(), [this] {
        finish_quit();
        return false;
    });
}

void Monitor::finish_quit()
{
    Json data;
    data["guest"] = false;
    data["reason"] = "host-qmp-quit";
    emit_event("SHUTDOWN", &data);
    for (auto &c : chardevs_) {
        c->flush(500);
    }
    // Last: the host may free the monitor from here.
    if (ops_.quit) {
        auto quit = ops_.quit;
        quit();
    }
}

// ---- events ---------------------------------------------------------------------

void Monitor::on_client_event(vnc::Server &s, int ev, const vnc::Connection &c)
{
    const char *name = ev == QVNC_CLIENT_CONNECTED     ? "VNC_CONNECTED"
                       : ev == QVNC_CLIENT_INITIALIZED ? "VNC_INITIALIZED"
                                                       : "VNC_DISCONNECTED";
    if (auto data = vnc_event_data(s, ev == QVNC_CLIENT_CONNECTED, c)) {
        emit_event(name, &*data);
    }
}

void Monitor::emit_event(const std::string &name, const Json *data)
{
    if (const EventDef *def = schema_.event(name)) {
        auto st = schema_.check_event(*def, data);
        if (!st) {
            ctx_.logger().error("monitor", "event " + name + " does not match the schema: " +
                                               st.error().message);
        }
    }
    gint64 now = g_get_real_time();
    Json ev;
    ev["timestamp"]["seconds"] = now / G_USEC_PER_SEC;
    ev["timestamp"]["microseconds"] = now % G_USEC_PER_SEC;
    ev["event"] = name;
    if (data) {
        ev["data"] = *data;
    }
    // QEMU sends events only to clients past capabilities negotiation.
    auto sessions = qmp_sessions_;
    for (QmpSession *s : sessions) {
        if (std::find(qmp_sessions_.begin(), qmp_sessions_.end(), s) != qmp_sessions_.end() &&
            s->negotiated()) {
            s->send(ev);
        }
    }
    if (event_fn_) {
        auto fn = event_fn_;
        fn(format_json(ev));
    }
}

void Monitor::register_qmp(QmpSession *s) { qmp_sessions_.push_back(s); }

void Monitor::unregister_qmp(QmpSession *s)
{
    qmp_sessions_.erase(std::remove(qmp_sessions_.begin(), qmp_sessions_.end(), s),
                        qmp_sessions_.end());
}

// ---- direct front ends --------------------------------------------------------------

std::string Monitor::run_hmp(std::string_view line)
{
    HmpEnv env{*this};
    hmp_execute(env, line);
    return hmp_crlf(env.out);
}

std::string Monitor::run_qmp(std::string_view json)
{
    // Through the streamer, for QEMU's input syntax (single quotes); the
    // first complete message is the request.
    std::vector<std::string> messages;
    std::string framing;
    JsonStreamer streamer(JsonStreamer::Sink{
        [&](std::string &&m) { messages.push_back(std::move(m)); },
        [&](const std::string &e) { framing = e; }});
    streamer.feed(json);
    streamer.feed("\n");
    Json reply;
    std::string error;
    if (!framing.empty()) {
        reply = error_reply(generic_error(framing));
    } else if (messages.empty() || streamer.partial()) {
        reply = error_reply(generic_error("JSON parse error, expecting value"));
    } else if (auto request = parse_message(messages.front(), &error)) {
        reply = dispatch_qmp(*request, api_state_);
    } else {
        reply = error_reply(generic_error(error));
    }
    return format_json(reply);
}

Json Monitor::error_reply(const QmpError &e)
{
    Json r;
    r["error"]["class"] = e.cls;
    r["error"]["desc"] = e.desc;
    return r;
}

// ---- file descriptors -----------------------------------------------------------------

Reply fd_get(FdState *st, const std::string &name)
{
    if (!st || st->received.empty()) {
        return generic_error("No file descriptor supplied via SCM_RIGHTS");
    }
    io::UniqueFd fd = std::move(st->received.front());
    st->received.pop_front();
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
        return generic_error("Parameter 'fdname' expects a name not starting with a digit");
    }
    auto it = st->named.find(name);
    if (it == st->named.end() && st->named.size() >= FdState::kMaxNamed) {
        return generic_error("Too many named file descriptors");
    }
    st->named[name] = std::move(fd); // replaces (and closes) one of the same name
    return Json::object();
}

Reply fd_close(FdState *st, const std::string &name)
{
    auto it = st ? st->named.find(name) : decltype(st->named.end()){};
    if (!st || it == st->named.end()) {
        return generic_error("File descriptor named '" + name + "' not found");
    }
    st->named.erase(it);
    return Json::object();
}

std::optional<io::UniqueFd> fd_take(FdState *st, const std::string &name, QmpError *error)
{
    auto it = st ? st->named.find(name) : decltype(st->named.end()){};
    if (!st || it == st->named.end()) {
        *error = generic_error("File descriptor named '" + name + "' has not been found");
        return std::nullopt;
    }
    io::UniqueFd fd = std::move(it->second);
    st->named.erase(it);
    return fd;
}

// ---- transports ---------------------------------------------------------------------

Chardev *Monitor::find_chardev(std::string_view id)
{
    for (auto &c : chardevs_) {
        if (c->id() == id) {
            return c.get();
        }
    }
    return nullptr;
}

Status Monitor::add_chardev(std::string_view opts)
{
    auto spec = parse_chardev(opts, [this](std::string_view id) { return find_chardev(id) != nullptr; });
    if (!spec) {
        return spec.take_error();
    }
    bool unsupported = spec->backend == ChardevSpec::Backend::Unsupported;
    std::string id = spec->id, backend = spec->backend_name;
    auto chr = Chardev::open(*this, std::move(spec.value()));
    if (!chr) {
        return chr.take_error();
    }
    // Kept even when unsupported: "-mon chardev=ID" then names the reason.
    chardevs_.push_back(std::move(chr.value()));
    if (unsupported) {
        return make_error(ErrorCode::Unsupported, "chardev '%s': back end '%s' is not supported by qvnc",
                          id.c_str(), backend.c_str());
    }
    return ok_status();
}

Status Monitor::bind(Chardev &chr, bool qmp, bool pretty) { return chr.bind(qmp, pretty); }

Status Monitor::add_mon(std::string_view opts)
{
    auto spec = parse_mon(opts);
    if (!spec) {
        return spec.take_error();
    }
    Chardev *chr = find_chardev(spec->chardev);
    if (!chr) {
        return make_error(ErrorCode::NotFound, "chardev \"%s\" not found", spec->chardev.c_str());
    }
    return bind(*chr, spec->control, spec->pretty);
}

Status Monitor::add_legacy(std::string_view text, bool qmp)
{
    auto spec = parse_legacy_monitor(text);
    if (!spec) {
        return spec.take_error();
    }
    if (spec->kind == LegacyMonitorSpec::Kind::None) {
        return ok_status();
    }
    if (spec->kind == LegacyMonitorSpec::Kind::Existing) {
        Chardev *chr = find_chardev(spec->existing_id);
        if (!chr) {
            return make_error(ErrorCode::NotFound, "chardev \"%s\" not found",
                              spec->existing_id.c_str());
        }
        return bind(*chr, qmp, false);
    }
    do {
        spec->chardev.id = strprintf("compat_monitor%d", anon_++);
    } while (find_chardev(spec->chardev.id));
    auto chr = Chardev::open(*this, std::move(spec->chardev));
    if (!chr) {
        return chr.take_error();
    }
    chardevs_.push_back(std::move(chr.value()));
    return bind(*chardevs_.back(), qmp, false);
}

Status Monitor::attach_fd(io::UniqueFd fd, bool qmp)
{
    int raw = fd.release();
    ChardevSpec spec;
    spec.backend = ChardevSpec::Backend::Socket;
    spec.backend_name = "socket";
    spec.fd = raw;
    do {
        spec.id = strprintf("fd_monitor%d", anon_++);
    } while (find_chardev(spec.id));
    auto chr = Chardev::open(*this, std::move(spec));
    if (!chr) {
        return chr.take_error();
    }
    chardevs_.push_back(std::move(chr.value()));
    return bind(*chardevs_.back(), qmp, false);
}

} // namespace qvnc::monitor
