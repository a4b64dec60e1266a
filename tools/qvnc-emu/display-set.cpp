#include "display-set.hpp"

#include <cmath>
#include <cstdio>
#include <vector>
#include <exception>

#include "event-lines.hpp"

namespace qvnc_emu {
namespace {

struct ErrorFree {
    void operator()(qvnc_error *e) const { qvnc_error_free(e); }
};
using ErrorPtr = std::unique_ptr<qvnc_error, ErrorFree>;

std::string message_of(const ErrorPtr &err)
{
    const char *m = err ? qvnc_error_get_message(err.get()) : nullptr;
    return m != nullptr ? m : "unknown error";
}

void warn(const std::string &what, const ErrorPtr &err)
{
    std::fprintf(stderr, "qvnc-emu: %s: %s\n", what.c_str(), message_of(err).c_str());
}

// Exceptions must not unwind through the library's C frames.
template <typename F>
void guarded(const char *where, F &&f)
{
    try {
        f();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qvnc-emu: %s: %s\n", where, e.what());
    } catch (...) {
        std::fprintf(stderr, "qvnc-emu: %s: unknown exception\n", where);
    }
}

} // namespace

const qvnc_display_ops DisplaySet::kOps = {
    sizeof(qvnc_display_ops), &DisplaySet::on_key, &DisplaySet::on_pointer, &DisplaySet::on_cut_text,
    &DisplaySet::on_client,   &DisplaySet::on_desktop_resize, &DisplaySet::on_power,
    &DisplaySet::on_update_wanted,
};

std::unique_ptr<DisplaySet> DisplaySet::create(std::string &error)
{
    qvnc_error *raw = nullptr;
    qvnc_context *ctx = qvnc_context_new(nullptr, &raw);
    ErrorPtr err(raw);
    if (ctx == nullptr) {
        error = message_of(err);
        return nullptr;
    }
    return std::make_unique<DisplaySet>(Token{}, ctx);
}

DisplaySet::DisplaySet(Token, qvnc_context *context) : context_(context) {}

DisplaySet::~DisplaySet()
{
    guest_ = nullptr; // closing may still report disconnects; no input now
    for (auto &entry : entries_) {
        entry->display.reset();
    }
    entries_.clear();
    context_.reset();
}

void DisplaySet::set_name(const std::string &name)
{
    qvnc_context_set_name(context_.get(), name.c_str());
}

void DisplaySet::set_handshake_timeout(unsigned ms)
{
    qvnc_context_set_handshake_timeout(context_.get(), ms);
}

bool DisplaySet::set_keymap(const std::string &layout, std::string &error)
{
    qvnc_error *raw = nullptr;
    const bool ok = qvnc_context_set_keymap(context_.get(), layout.c_str(), &raw);
    ErrorPtr err(raw);
    if (!ok) {
        error = message_of(err);
    }
    return ok;
}

bool DisplaySet::add_object(const std::string &spec, std::string &error)
{
    qvnc_error *raw = nullptr;
    const bool ok = qvnc_context_add_object(context_.get(), spec.c_str(), &raw);
    ErrorPtr err(raw);
    if (!ok) {
        error = message_of(err);
    }
    return ok;
}

bool DisplaySet::open(const std::string &vnc_options, std::string &error)
{
    auto entry = std::make_unique<Entry>();
    entry->owner = this;
    qvnc_error *raw = nullptr;
    qvnc_display *display = qvnc_display_open(context_.get(), vnc_options.c_str(), &kOps, entry.get(), &raw);
    ErrorPtr err(raw);
    if (display == nullptr) {
        error = message_of(err);
        return false;
    }
    entry->display.reset(display);
    qvnc_display_set_audio_available(display, true);
    const char *id = qvnc_display_get_id(display);
    entry->id = id != nullptr ? id : "";
    apply_state(display);
    entries_.push_back(std::move(entry));
    return true;
}

void DisplaySet::apply_state(qvnc_display *display)
{
    if (canvas_ != nullptr) {
        const qvnc_surface s = canvas_->surface();
        qvnc_error *raw = nullptr;
        if (!qvnc_display_switch_surface(display, &s, &raw)) {
            warn("switch_surface", ErrorPtr(raw));
        }
    }
    if (cursor_) {
        qvnc_error *raw = nullptr;
        if (!qvnc_display_set_cursor(display, cursor_->width, cursor_->height, cursor_->hot_x, cursor_->hot_y,
                                     cursor_->argb.data(), &raw)) {
            warn("set_cursor", ErrorPtr(raw));
        }
    }
    if (absolute_) {
        qvnc_display_set_pointer_absolute(display, *absolute_);
    }
}

void DisplaySet::show(const Canvas &canvas)
{
    canvas_ = &canvas;
    const qvnc_surface s = canvas.surface();
    for (const auto &entry : entries_) {
        qvnc_error *raw = nullptr;
        if (!qvnc_display_switch_surface(entry->display.get(), &s, &raw)) {
            warn("display " + entry->id + ": switch_surface", ErrorPtr(raw));
        }
    }
}

void DisplaySet::update(const Rect &damage)
{
    for (const auto &entry : entries_) {
        qvnc_display_update(entry->display.get(), damage.x, damage.y, damage.w, damage.h);
    }
}

void DisplaySet::flush()
{
    for (const auto &entry : entries_) {
        qvnc_display_flush(entry->display.get());
    }
}

void DisplaySet::set_cursor(const Cursor &cursor)
{
    cursor_ = cursor;
    for (const auto &entry : entries_) {
        qvnc_error *raw = nullptr;
        if (!qvnc_display_set_cursor(entry->display.get(), cursor.width, cursor.height, cursor.hot_x, cursor.hot_y,
                                     cursor.argb.data(), &raw)) {
            warn("display " + entry->id + ": set_cursor", ErrorPtr(raw));
        }
    }
}

void DisplaySet::set_pointer_absolute(bool absolute)
{
    absolute_ = absolute;
    for (const auto &entry : entries_) {
        qvnc_display_set_pointer_absolute(entry->display.get(), absolute);
    }
}

void DisplaySet::on_key(void *opaque, uint32_t keysym, uint32_t qnum, bool down)
{
    guarded("key_event", [&] {
        emit_line(key_line(keysym, qnum, down));
        if (keysym == kToneKey && down) {
            static_cast<Entry *>(opaque)->owner->play_tone();
        }
        if (Guest *g = static_cast<Entry *>(opaque)->owner->guest_) {
            g->key_event(keysym, qnum, down);
        }
    });
}

void DisplaySet::on_pointer(void *opaque, int x, int y, uint32_t buttons)
{
    guarded("pointer_event", [&] {
        emit_line(pointer_line(x, y, buttons));
        if (Guest *g = static_cast<Entry *>(opaque)->owner->guest_) {
            g->pointer_event(x, y, buttons);
        }
    });
}

void DisplaySet::on_cut_text(void *opaque, const char *text, size_t len)
{
    guarded("cut_text", [&] {
        const std::string_view t = text != nullptr ? std::string_view(text, len) : std::string_view();
        emit_line(cut_text_line(t));
        if (Guest *g = static_cast<Entry *>(opaque)->owner->guest_) {
            g->cut_text(t);
        }
    });
}

void DisplaySet::on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *client)
{
    guarded("client_event", [&] {
        if (client != nullptr) {
            emit_line(client_line(event, *client, static_cast<Entry *>(opaque)->id));
        }
    });
}

bool DisplaySet::on_desktop_resize(void *opaque, int width, int height)
{
    bool accepted = false;
    guarded("desktop_resize", [&] {
        emit_line(resize_request_line(width, height));
        Guest *g = static_cast<Entry *>(opaque)->owner->guest_;
        accepted = g != nullptr && g->desktop_resize(width, height);
    });
    return accepted;
}

void DisplaySet::play_tone()
{
    // A 440 Hz beep of 0.3 s, 44.1 kHz stereo: enough for a listener (and a
    // test) to hear that guest audio reaches the viewer.
    constexpr int kRate = 44100, kFrames = kRate * 3 / 10;
    std::vector<int16_t> samples(static_cast<size_t>(kFrames) * 2);
    for (int i = 0; i < kFrames; i++) {
        auto v = static_cast<int16_t>(8000.0 * std::sin(2.0 * M_PI * 440.0 * i / kRate));
        samples[2 * static_cast<size_t>(i)] = samples[2 * static_cast<size_t>(i) + 1] = v;
    }
    for (auto &entry : entries_) {
        qvnc_display_audio_write(entry->display.get(), samples.data(), kFrames, 2, kRate);
    }
    emit_line("AUDIO tone 440Hz 300ms");
}

bool DisplaySet::on_power(void *opaque, qvnc_power_action action)
{
    (void)opaque;
    guarded("power_control", [&] { emit_line(power_line(action)); });
    // The stand-in machine has no power state: it reports and carries on.
    return true;
}

void DisplaySet::on_update_wanted(void *opaque)
{
    // Not an event line: it comes once per update request and only a
    // demand-driven guest cares.
    guarded("update_wanted", [&] {
        Guest *g = static_cast<Entry *>(opaque)->owner->guest_;
        if (g != nullptr) {
            g->update_wanted();
        }
    });
}

} // namespace qvnc_emu
