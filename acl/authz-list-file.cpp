#include "authz-list-file.hpp"

#include <glib.h>

namespace qvnc::acl {

namespace {

struct GFreeDeleter {
    void operator()(void *p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFreeDeleter>;

struct GErrorDeleter {
    void operator()(GError *e) const { g_error_free(e); }
};
using GErrorPtr = std::unique_ptr<GError, GErrorDeleter>;

// nlohmann's what() starts with "[json.exception.parse_error.101] "; the
// user needs only the explanation (same treatment as -object JSON).
std::string json_error_text(const nlohmann::json::exception &e)
{
    std::string why = e.what();
    if (auto close = why.find("] "); why.rfind("[json.exception", 0) == 0 &&
                                     close != std::string::npos) {
        why.erase(0, close + 2);
    }
    return why;
}

} // namespace

Result<Acl> load_list_file(const std::string &filename)
{
    char *raw = nullptr;
    gsize len = 0;
    GError *raw_err = nullptr;
    if (!g_file_get_contents(filename.c_str(), &raw, &len, &raw_err)) {
        GErrorPtr err(raw_err);
        return make_error(ErrorCode::Io, "Unable to read '%s': %s", filename.c_str(),
                          err->message);
    }
    GCharPtr content(raw);

    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(content.get(), content.get() + len);
    } catch (const nlohmann::json::exception &e) {
        return make_error(ErrorCode::InvalidArg, "File '%s': JSON parse error, %s",
                          filename.c_str(), json_error_text(e).c_str());
    }
    if (!doc.is_object()) {
        return make_error(ErrorCode::InvalidArg, "File '%s' must contain a JSON object",
                          filename.c_str());
    }

    Acl list;
    if (Status st = parse_list_props(doc, list); !st) {
        return make_error(ErrorCode::InvalidArg, "File '%s': %s", filename.c_str(),
                          st.error().message.c_str());
    }
    return list;
}

AuthzListFile::AuthzListFile(Key, std::string id, std::string filename, LogFn log)
    : Authz(std::move(id)), filename_(std::move(filename)), log_(std::move(log))
{
}

AuthzListFile::~AuthzListFile()
{
    // Disconnect first: a queued event must not reach a dead object.
    if (monitor_) {
        if (handler_id_ != 0) {
            g_signal_handler_disconnect(monitor_.get(), handler_id_);
        }
        g_file_monitor_cancel(monitor_.get());
    }
}

Result<std::unique_ptr<AuthzListFile>> AuthzListFile::create(const opts::ObjectSpec &spec,
                                                             GMainContext *main_context,
                                                             LogFn log)
{
    if (Status st = opts::check_known_props(spec, {"filename", "refresh"}); !st) {
        return st.take_error();
    }
    auto filename = opts::get_string(spec, "filename");
    if (!filename) {
        return filename.take_error();
    }
    auto refresh = opts::get_bool(spec, "refresh", true);
    if (!refresh) {
        return refresh.take_error();
    }
    if (!filename.value()) {
        return make_error(ErrorCode::InvalidArg, "filename not provided");
    }

    auto self = std::make_unique<AuthzListFile>(Key{}, spec.id, std::move(*filename.value()),
                                                std::move(log));
    auto list = load_list_file(self->filename_);
    if (!list) {
        return list.take_error();
    }
    self->list_ = std::move(list.value());

    if (*refresh) {
        if (Status st = self->watch(main_context); !st) {
            return st.take_error();
        }
    }
    return self;
}

Status AuthzListFile::watch(GMainContext *main_context)
{
    // QEMU watches the directory for the basename and insists on both.
    GCharPtr dir(g_path_get_dirname(filename_.c_str()));
    if (std::string_view(dir.get()) == ".") {
        return make_error(ErrorCode::InvalidArg, "Filename must be an absolute path");
    }
    GCharPtr base(g_path_get_basename(filename_.c_str()));
    if (std::string_view(base.get()) == ".") {
        return make_error(ErrorCode::InvalidArg, "Path has no trailing filename component");
    }

    file_.reset(g_file_new_for_path(filename_.c_str()));

    // A GFileMonitor delivers its signals on the thread-default context of
    // the thread that created it.  GLib's local monitor watches the parent
    // directory for this name, so a replacement by rename is seen too.
    GError *raw_err = nullptr;
    g_main_context_push_thread_default(main_context);
    GFileMonitor *monitor =
        g_file_monitor_file(file_.get(), G_FILE_MONITOR_NONE, nullptr, &raw_err);
    g_main_context_pop_thread_default(main_context);
    if (!monitor) {
        GErrorPtr err(raw_err);
        return make_error(ErrorCode::Io, "Unable to watch '%s': %s", filename_.c_str(),
                          err->message);
    }
    monitor_.reset(monitor);
    handler_id_ = g_signal_connect(monitor_.get(), "changed", G_CALLBACK(file_changed_cb), this);
    return ok_status();
}

void AuthzListFile::file_changed_cb(GFileMonitor * /*monitor*/, GFile * /*file*/,
                                    GFile * /*other*/, GFileMonitorEvent event, gpointer self)
{
    static_cast<AuthzListFile *>(self)->on_file_event(event);
}

void AuthzListFile::on_file_event(GFileMonitorEvent event)
{
    // Reload on CHANGES_DONE_HINT only.  GLib's local monitor emits it when
    // a writer closes the file, right after the CREATED it reports for a
    // rename onto the name (editors, g_file_set_contents), and 2 s after a
    // CREATED or CHANGED whose writer keeps the file open.  CREATED and
    // CHANGED themselves arrive mid-write: parsing then would read half a
    // file and deny everyone for a moment.  DELETED keeps the rules in
    // force, as in QEMU.
    if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT) {
        return;
    }
    (void)reload();
}

Status AuthzListFile::reload()
{
    ++reload_count_;
    auto list = load_list_file(filename_);
    if (!list) {
        list_.reset();
        last_error_ = list.error().message;
        if (log_) {
            log_(LogLevel::Warning,
                 strprintf("authz-list-file '%s': %s; denying all identities until the file "
                           "is fixed",
                           id().c_str(), last_error_.c_str()));
        }
        return list.take_error();
    }
    const bool recovered = !last_error_.empty();
    list_ = std::move(list.value());
    last_error_.clear();
    if (log_) {
        log_(LogLevel::Info, strprintf("authz-list-file '%s': %s '%s'", id().c_str(),
                                       recovered ? "rules restored from" : "reloaded",
                                       filename_.c_str()));
    }
    return ok_status();
}

bool AuthzListFile::is_allowed(std::string_view identity, std::string *why) const
{
    if (!list_) {
        if (why) {
            *why = strprintf("authz-list-file '%s' has no valid rules: %s", id().c_str(),
                             last_error_.c_str());
        }
        return false;
    }
    return list_->is_allowed(identity);
}

} // namespace qvnc::acl
