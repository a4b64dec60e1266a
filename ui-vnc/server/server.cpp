#include "server.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "connection.hpp"
#include "context.hpp"
#include "protocol.hpp"
#include "socket-transport.hpp"
#include "worker-pool.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>

namespace qvnc::vnc {

Server::Server(Context &ctx, VncConfig config, const qvnc_display_ops *ops, void *opaque)
    : ctx_(ctx), config_(std::move(config)), opaque_(opaque)
{
    if (ops) {
        // Copy only what the caller's struct has: older callers pass less.
        std::memcpy(&ops_, ops, std::min(ops->struct_size, sizeof ops_));
    }
    ops_.struct_size = sizeof ops_;
    // A private console until start() binds display=ID,head=N.
    console_ = std::make_shared<Console>("", 0);
    console_->attach(this);
    console_surface_changed();
}

Server::~Server()
{
    console_->detach(this);
    // Connections first: they call back into the server as they go.
    refresh_source_.reset();
    reap_source_.reset();
    stats_timer_.reset();
    for (auto &c : conns_) {
        c->close("display closed");
    }
    for (auto &c : conns_) {
        client_event(QVNC_CLIENT_DISCONNECTED, *c);
    }
    conns_.clear();
    listeners_.clear();
    workers_.reset();
}

GMainContext *Server::main_context() const { return ctx_.main_context(); }

Status Server::start()
{
    if (!config_.password_secret.empty()) {
        Result<std::string> pw = ctx_.secrets().lookup(config_.password_secret);
        if (!pw) {
            return pw.take_error();
        }
        password_ = std::move(pw.value());
    }
    if (config_.acl) {
        // QEMU 2.3-5.2: the DN list always, the username list with sasl;
        // both start denying everyone ("no window of open access").
        ctx_.acls().ensure_list(legacy_acl_name("x509dname"));
        if (config_.sasl) {
            ctx_.acls().ensure_list(legacy_acl_name("username"));
        }
    }
    Status tls = resolve_tls();
    if (!tls) {
        return tls;
    }
    TlsKind kind = !tls_creds_ ? TlsKind::None
                   : tls_creds_->type() == crypto::TlsCredsType::X509 ? TlsKind::X509
                                                                       : TlsKind::Anon;
    plan_ = plan_auth(config_.password || !config_.password_secret.empty(), config_.sasl, kind);
    KeyboardProcessor::Options kopts;
    // Scancodes for keysym-only clients only with -k: without it the
    // emulator gets the keysym and qnum 0, as the C ABI promises.
    kopts.keymap = ctx_.keymap_given() ? ctx_.keymap() : nullptr;
    kopts.keymap_overrides_ext_key = ctx_.keymap_given();
    kopts.key_delay_ms = static_cast<unsigned>(std::max(0, config_.key_delay_ms));
    kopts.lock_key_sync = config_.lock_key_sync;
    keyboard_ = std::make_unique<KeyboardProcessor>(
        main_context(), std::move(kopts),
        [this](uint32_t keysym, uint32_t qnum, bool down) {
            if (ops_.key_event) {
                call_host([&] { ops_.key_event(opaque_, keysym, qnum, down); });
            }
        },
        &ctx_.logger());
    if (!config_.display.empty()) {
        std::shared_ptr<Console> con = ctx_.find_console(config_.display, config_.head);
        if (!con) {
            return ctx_.console_lookup_error(config_.display, config_.head);
        }
        console_->detach(this);
        console_ = std::move(con);
        console_->attach(this);
        console_surface_changed();
    }
    if (config_.reverse) {
        return connect_reverse();
    }
    auto ls = open_listeners(config_.addresses, false);
    if (!ls) {
        return ls.take_error();
    }
    listeners_ = std::move(ls.value());
    if (!config_.none) {
        auto ws = open_listeners(config_.websockets, true);
        if (!ws) {
            listeners_.clear();
            return ws.take_error();
        }
        for (auto &l : ws.value()) {
            listeners_.push_back(std::move(l));
        }
    }
    return ok_status();
}

Result<std::vector<std::unique_ptr<Listener>>> Server::open_listeners(
    const std::vector<ListenAddress> &addresses, bool websocket)
{
    std::vector<std::unique_ptr<Listener>> out;
    for (const ListenAddress &addr : addresses) {
        auto l = Listener::open(main_context(), addr, websocket,
                                [this, websocket](io::UniqueFd fd, const io::AddressInfo &where) {
                                    accept_connection(std::move(fd), false, where, websocket);
                                });
        if (!l) {
            return l.take_error();
        }
        out.push_back(std::move(l.value()));
    }
    return out;
}

Status Server::connect_reverse()
{
    // QEMU connects synchronously while the display opens, so a viewer that
    // is not listening is an error of the -vnc option itself.
    const ListenAddress &a = config_.addresses.at(0);
    io::UniqueFd fd;
    std::string where;
    if (a.kind == ListenAddress::Kind::Unix) {
        where = a.path;
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (a.path.size() >= sizeof un.sun_path) {
            return make_error(ErrorCode::InvalidArg, "UNIX socket path '%s' is too long", a.path.c_str());
        }
        std::memcpy(un.sun_path, a.path.c_str(), a.path.size() + 1);
        fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr *>(&un), sizeof un) != 0) {
            return make_error(ErrorCode::Io, "Failed to connect to '%s': %s", where.c_str(),
                              std::strerror(errno));
        }
    } else {
        where = a.host + ":" + std::to_string(a.port);
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo *list = nullptr;
        std::string port = std::to_string(a.port);
        int rc = getaddrinfo(a.host.empty() ? nullptr : a.host.c_str(), port.c_str(), &hints, &list);
        if (rc != 0) {
            return make_error(ErrorCode::Io, "address resolution failed for %s: %s", where.c_str(),
                              gai_strerror(rc));
        }
        std::unique_ptr<addrinfo, void (*)(addrinfo *)> owned(list, freeaddrinfo);
        int err = ECONNREFUSED;
        for (addrinfo *ai = list; ai; ai = ai->ai_next) {
            io::UniqueFd s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
            if (s.valid() && ::connect(s.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
                fd = std::move(s);
                break;
            }
            err = errno;
        }
        if (!fd.valid()) {
            return make_error(ErrorCode::Io, "Failed to connect to '%s': %s", where.c_str(),
                              std::strerror(err));
        }
        int one = 1;
        setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ctx_.logger().log(QVNC_LOG_INFO, "vnc", "%s: reverse connection to %s", config_.id.c_str(),
                      where.c_str());
    // No listener: like QEMU, no VNC_* events for this client.
    accept_connection(std::move(fd), false, std::nullopt, false);
    return ok_status();
}

Status Server::replace_addresses(const std::vector<ListenAddress> &addresses)
{
    // Close first: the new set may reuse a port of the old one.
    std::vector<std::unique_ptr<Listener>> kept, old;
    for (auto &l : listeners_) {
        (l->websocket() ? kept : old).push_back(std::move(l));
    }
    old.clear();
    auto fresh = open_listeners(addresses, false);
    if (!fresh) {
        // Reopen what we had, so a bad request leaves the display listening.
        auto back = open_listeners(config_.addresses, false);
        listeners_ = std::move(kept);
        if (back) {
            for (auto &l : back.value()) {
                listeners_.push_back(std::move(l));
            }
        }
        return fresh.take_error();
    }
    listeners_ = std::move(fresh.value());
    for (auto &l : kept) {
        listeners_.push_back(std::move(l));
    }
    config_.addresses = addresses;
    config_.none = addresses.empty();
    return ok_status();
}

std::string Server::desktop_name() const
{
    const std::string &n = ctx_.name();
    std::string out = n.empty() ? "QEMU" : "QEMU (" + n + ")";
    if (out.size() > 1024) {
        out.resize(1024);
    }
    return out;
}

void Server::log_client(qvnc_log_level lvl, const Connection &c, const std::string &msg) const
{
    const io::AddressInfo &p = c.peer();
    ctx_.logger().log(lvl, "vnc", "%s: client %s%s%s: %s", config_.id.c_str(), p.host.c_str(),
                      p.host.empty() ? "" : ":", p.service.c_str(), msg.c_str());
}

// ---- surface and damage ---------------------------------------------------

void Server::schedule_refresh()
{
    if (refresh_source_) {
        return;
    }
    // An idle source rather than a timer: every damage call the guest makes
    // while drawing a frame lands before it runs (one compare pass per
    // frame), and sparse damage goes out in the same loop iteration instead
    // of waiting for a refresh period.
    refresh_source_ = io::add_idle(main_context(), [this] {
        refresh_source_.reset();
        refresh();
        return false;
    });
}

void Server::refresh()
{
    // Only a client that can take an update now is worth a compare pass.
    // Otherwise the damage accumulates in guest_dirty_ (a bounded bitmap)
    // and the client's next request pulls it (Connection::try_send_update):
    // no work, and no wakeup, while nobody is looking.
    bool wanted = false;
    for (auto &c : conns_) {
        wanted |= c->can_take_update();
    }
    if (!wanted) {
        return;
    }
    pull_damage();
    // Clients in step with each other first get one encode between them;
    // the rest (and what is left) each their own.
    share_.run();
    for (auto &c : conns_) {
        // A parked client waits for the job it parked behind.
        if (!c->parked()) {
            c->try_send_update();
        }
    }
}

void Server::notify_update_wanted()
{
    if (ops_.update_wanted) {
        call_host([&] { ops_.update_wanted(opaque_); });
    }
}

void Server::pull_damage()
{
    if (!guest_dirty_.any()) {
        return;
    }
    // Jobs reading the pixels in place read only their rects: damage
    // elsewhere is compared and copied in place around them (a cursor
    // next to a big encode goes out at once).  Damage inside their rects
    // would need a copy of the whole frame first (copy on write), so it
    // waits in guest_dirty_ until they are done (after_jobs); jobs started
    // meanwhile take snapshots, so the wait is one encode at most, as for
    // a parked client.
    const bool write_shared = !lent_.empty();
    if (write_shared && damage_meets_lent()) {
        pull_deferred_ = true;
        return;
    }
    changed_.clear();
    moved_ = write_shared ? Rect{} : move_scrolled();
    compare_damage(write_shared);
    guest_dirty_.clear();
    if (!changed_.any()) {
        if (!moved_.empty()) {
            record_changes();
        }
        return;
    }
    record_changes();
    for (auto &c : conns_) {
        c->add_damage(changed_);
    }
}

bool Server::damage_meets_lent() const
{
    for (const EncodeJob *j : lent_) {
        for (const Rect &r : j->rects) {
            if (guest_dirty_.any_in(r)) {
                return true;
            }
        }
    }
    return false;
}

void Server::lend_pixels(EncodeJob &job, std::span<const Rect> rects)
{
    const bool in_place = !pull_deferred_;
    vnc::lend_pixels(job, fb_, in_place, rects);
    if (in_place) {
        lent_.push_back(&job);
    }
}

void Server::return_pixels(EncodeJob &job)
{
    std::erase(lent_, &job);
    vnc::return_pixels(job);
}

void Server::mouse_set(int, int, bool)
{
    // Clients draw the cursor locally at their own pointer; QEMU's server
    // ignores guest pointer moves too (no PointerPos pseudo-encoding).
}

void Server::name_changed()
{
    for (auto &c : conns_) {
        c->name_changed();
        c->try_send_update();
    }
}

void Server::bell()
{
    for (auto &c : conns_) {
        c->bell();
    }
}

bool Server::power_action(uint8_t code)
{
    if (code < QVNC_POWER_SHUTDOWN || code > QVNC_POWER_RESET || !ops_.power_control) {
        return false;
    }
    return call_host([&] { return ops_.power_control(opaque_, static_cast<qvnc_power_action>(code)); });
}

// ---- passwords ------------------------------------------------------------

Status Server::set_password(const std::string &password)
{
    if (plan_.auth != AuthType::Vnc && plan_.subauth != VencryptSub::TlsVnc &&
        plan_.subauth != VencryptSub::X509Vnc) {
        // QEMU >= 2.1: refused on displays without password auth (never a
        // silent switch from None, cf. CVE-2011-0011).
        return make_error(ErrorCode::State, "Could not set password");
    }
    password_ = password;
    return ok_status();
}

Status Server::expire_password(int64_t when)
{
    // QEMU stores the expiry whatever the auth (it only matters with VNC
    // password auth), so libvirt's expire_password never fails here.
    expires_ = when < 0 ? -1 : when;
    return ok_status();
}

// ---- clients --------------------------------------------------------------

Status Server::add_client(io::UniqueFd fd, bool skipauth)
{
    if (!fd.valid()) {
        return make_error(ErrorCode::InvalidArg, "invalid file descriptor");
    }
    // No listener: QEMU emits no VNC_* events for such clients.
    accept_connection(std::move(fd), skipauth, std::nullopt, false);
    return ok_status();
}

void Server::accept_connection(io::UniqueFd fd, bool skipauth,
                               std::optional<io::AddressInfo> listener, bool websocket)
{
    io::AddressInfo peer = io::peer_address(fd.get());
    auto transport = std::make_unique<io::SocketTransport>(std::move(fd));
    auto conn = std::make_unique<Connection>(*this, std::move(transport), peer, skipauth,
                                             std::move(listener), websocket);
    Connection &c = *conn;
    conns_.push_back(std::move(conn));
    log_client(QVNC_LOG_INFO, c, "connected");
    client_event(QVNC_CLIENT_CONNECTED, c);
    c.start();
    enforce_connection_limit();
}

void Server::enforce_connection_limit()
{
    // QEMU: too many clients still connecting -> drop the oldest of them.
    int connecting = 0;
    for (auto &c : conns_) {
        connecting += !c->closing() && c->share() == Connection::Share::Connecting;
    }
    if (connecting <= config_.connections) {
        return;
    }
    for (auto &c : conns_) {
        if (!c->closing() && c->share() == Connection::Share::Connecting) {
            c->close("too many connections (oldest connecting client dropped)");
            return;
        }
    }
}

bool Server::admit_shared(Connection &me, bool shared_flag)
{
    if (config_.share == SharePolicy::Ignore) {
        shared_flag = true;
    }
    if (!shared_flag) {
        if (config_.share == SharePolicy::ForceShared) {
            return false;
        }
        for (auto &c : conns_) {
            if (c.get() != &me && !c->closing() && c->share() != Connection::Share::Connecting) {
                c->close("another client asked for exclusive access");
            }
        }
    } else if (config_.share == SharePolicy::AllowExclusive) {
        for (auto &c : conns_) {
            if (c.get() != &me && !c->closing() && c->share() == Connection::Share::Exclusive) {
                return false;
            }
        }
    }
    int active = 0;
    for (auto &c : conns_) {
        active += !c->closing() && c->share() != Connection::Share::Connecting;
    }
    return active < config_.connections;
}

work::WorkerPool &Server::workers()
{
    if (!workers_) {
        workers_ = std::make_unique<work::WorkerPool>(main_context(), work::WorkerPool::default_threads());
    }
    return *workers_;
}

void Server::reap_later()
{
    if (reap_source_) {
        return;
    }
    reap_source_ = io::add_idle(main_context(), [this] {
        reap_source_.reset();
        reap();
        return false;
    });
}

void Server::reap()
{
    // Pull the dead out first: a host callback below may open/close clients.
    std::list<std::unique_ptr<Connection>> dead;
    for (auto it = conns_.begin(); it != conns_.end();) {
        if ((*it)->closing()) {
            dead.splice(dead.end(), conns_, it++);
        } else {
            ++it;
        }
    }
    for (auto &c : dead) {
        if (c->share() != Connection::Share::Connecting) {
            client_gone();
        }
        client_event(QVNC_CLIENT_DISCONNECTED, *c);
    }
}

// ---- host callbacks -------------------------------------------------------

void Server::client_event(qvnc_client_event ev, const Connection &c)
{
    ctx_.notify_client_event(*this, ev, c);
    if (!ops_.client_event) {
        return;
    }
    const io::AddressInfo &p = c.peer();
    qvnc_client_info info{};
    info.struct_size = sizeof info;
    info.host = p.host.c_str();
    info.service = p.service.c_str();
    info.family = p.family.c_str();
    info.websocket = c.websocket();
    info.x509_dname = c.x509_dname() ? c.x509_dname()->c_str() : nullptr;
    info.sasl_username = c.sasl_username() ? c.sasl_username()->c_str() : nullptr;
    call_host([&] { ops_.client_event(opaque_, ev, &info); });
}

void Server::client_key(uint32_t keysym, uint32_t qnum, bool down, bool client_has_leds)
{
    if (keyboard_) {
        keyboard_->key_event(keysym, qnum, down, client_has_leds);
    }
}

void Server::client_gone()
{
    // No key stays pressed in the guest because its client went away.
    if (keyboard_) {
        keyboard_->reset();
    }
}

void Server::pointer_event(int x, int y, uint32_t buttons)
{
    if (ops_.pointer_event) {
        call_host([&] { ops_.pointer_event(opaque_, x, y, buttons); });
    }
}

void Server::cut_text(const std::string &utf8)
{
    if (ops_.cut_text) {
        call_host([&] { ops_.cut_text(opaque_, utf8.c_str(), utf8.size()); });
    }
}

bool Server::desktop_resize(int w, int h)
{
    return ops_.desktop_resize && call_host([&] { return ops_.desktop_resize(opaque_, w, h); });
}

} // namespace qvnc::vnc
