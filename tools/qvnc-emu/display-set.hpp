// The emulator's side of libqvnc: one qvnc_context and every display the
// -vnc options opened.  As the guest's Screen it fans each frame change out
// to all displays, and it remembers the current surface and cursor so each
// display shows the same thing however late it opened.  Library callbacks
// are printed as event lines and then handed to the guest.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guest.hpp"
#include "qvnc-display.h"
#include "screen.hpp"

namespace qvnc_emu {

class DisplaySet final : public Screen {
    struct Token {
        explicit Token() = default;
    };

public:
    // A context on the default GMainContext; null (and `error`) on failure.
    static std::unique_ptr<DisplaySet> create(std::string &error);
    DisplaySet(Token, qvnc_context *context);
    // Closes every display, then frees the context.
    ~DisplaySet() override;

    DisplaySet(const DisplaySet &) = delete;
    DisplaySet &operator=(const DisplaySet &) = delete;

    // The context the displays belong to (for the monitor).
    qvnc_context *context() const { return context_.get(); }
    void set_name(const std::string &name);
    void set_handshake_timeout(unsigned ms);
    bool set_keymap(const std::string &layout, std::string &error);
    bool add_object(const std::string &spec, std::string &error);
    // Opens a display from a literal -vnc argument; `error` gets the
    // library's message (QEMU's wording) on failure.
    bool open(const std::string &vnc_options, std::string &error);
    // Where input goes; null drops it (it is still printed).
    void set_guest(Guest *guest) { guest_ = guest; }
    // F9 plays a short tone through the audio pseudo-encoding.
    static constexpr uint32_t kToneKey = 0xffc6;
    void play_tone();

    void show(const Canvas &canvas) override;
    void update(const Rect &damage) override;
    void flush() override;
    void set_cursor(const Cursor &cursor) override;
    void set_pointer_absolute(bool absolute) override;

private:
    struct ContextFree {
        void operator()(qvnc_context *c) const { qvnc_context_free(c); }
    };
    struct DisplayClose {
        void operator()(qvnc_display *d) const { qvnc_display_close(d); }
    };
    // One per display; its address is the callbacks' opaque pointer, so
    // entries live in unique_ptrs that never move.  `display` is declared
    // last so it is closed first, while owner and id are still valid for
    // any callback the close itself triggers.
    struct Entry {
        DisplaySet *owner = nullptr;
        std::string id;
        std::unique_ptr<qvnc_display, DisplayClose> display;
    };

    static const qvnc_display_ops kOps;
    static void on_key(void *opaque, uint32_t keysym, uint32_t qnum, bool down);
    static void on_pointer(void *opaque, int x, int y, uint32_t buttons);
    static void on_cut_text(void *opaque, const char *text, size_t len);
    static void on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *client);
    static bool on_desktop_resize(void *opaque, int width, int height);
    static bool on_power(void *opaque, qvnc_power_action action);
    static void on_update_wanted(void *opaque);

    void apply_state(qvnc_display *display);

    std::unique_ptr<qvnc_context, ContextFree> context_;
    std::vector<std::unique_ptr<Entry>> entries_;
    Guest *guest_ = nullptr;
    const Canvas *canvas_ = nullptr;
    std::optional<Cursor> cursor_;
    std::optional<bool> absolute_;
};

} // namespace qvnc_emu
