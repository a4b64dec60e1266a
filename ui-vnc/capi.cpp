// Every extern "C" entry point of the library.  Each body runs inside
// capi_guard(), the one place where C++ exceptions are translated into a
// qvnc_error, so none ever crosses the ABI.
#include <new>

#include "capi-internal.hpp"
#include "context.hpp"
#include "qvnc.h"
#include "server.hpp"

struct qvnc_console {
    qvnc::Context *ctx;
    std::shared_ptr<qvnc::vnc::Console> con;
};

// A display handle is the Server itself; the cast is confined to this file.
struct qvnc_display;

using qvnc::capi::check;
using qvnc::capi::set_error;

namespace {

qvnc::vnc::Server *server_of(qvnc_display *d) { return reinterpret_cast<qvnc::vnc::Server *>(d); }
const qvnc::vnc::Server *server_of(const qvnc_display *d)
{
    return reinterpret_cast<const qvnc::vnc::Server *>(d);
}
qvnc_display *handle_of(qvnc::vnc::Server *s) { return reinterpret_cast<qvnc_display *>(s); }

template <class Ret, class Fn> Ret capi_guard(qvnc_error **err, Ret failed, Fn &&fn) noexcept
{
    return qvnc::capi::guard(err, failed, std::forward<Fn>(fn));
}

template <class Fn> void capi_guard_void(Fn &&fn) noexcept
{
    qvnc::capi::guard_void("qvnc C API", std::forward<Fn>(fn));
}

} // namespace

extern "C" {

QVNC_API qvnc_error_code qvnc_error_get_code(const qvnc_error *err)
{
    return err ? err->code : QVNC_ERR_INVALID_ARG;
}

QVNC_API const char *qvnc_error_get_message(const qvnc_error *err)
{
    return err ? err->message.c_str() : "";
}

QVNC_API void qvnc_error_free(qvnc_error *err)
{
    std::unique_ptr<qvnc_error> owned(err);
}

QVNC_API void qvnc_free(void *ptr) { g_free(ptr); }

QVNC_API const char *qvnc_version(void) { return "0.1.0"; }

QVNC_API qvnc_context *qvnc_context_new(GMainContext *main_context, qvnc_error **err)
{
    return capi_guard(err, static_cast<qvnc_context *>(nullptr), [&] {
        return std::make_unique<qvnc_context>(main_context).release();
    });
}

QVNC_API void qvnc_context_free(qvnc_context *ctx)
{
    capi_guard_void([&] { std::unique_ptr<qvnc_context> owned(ctx); });
}

QVNC_API void qvnc_context_set_log_handler(qvnc_context *ctx, qvnc_log_fn fn, void *opaque)
{
    if (ctx) {
        ctx->impl.logger().set_handler(fn, opaque);
    }
}

QVNC_API void qvnc_context_set_name(qvnc_context *ctx, const char *name)
{
    capi_guard_void([&] {
        if (ctx) {
            ctx->impl.set_name(name ? name : "");
        }
    });
}

QVNC_API void qvnc_context_set_handshake_timeout(qvnc_context *ctx, unsigned milliseconds)
{
    if (ctx) {
        ctx->impl.set_handshake_timeout_ms(milliseconds ? milliseconds : 1);
    }
}

QVNC_API bool qvnc_context_set_keymap(qvnc_context *ctx, const char *layout, qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!ctx || !layout) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing context or layout");
            return false;
        }
        return check(err, ctx->impl.set_keymap(layout));
    });
}

QVNC_API bool qvnc_context_add_object(qvnc_context *ctx, const char *spec, qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!ctx || !spec) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing context or object specification");
            return false;
        }
        return check(err, ctx->impl.add_object(spec));
    });
}

QVNC_API qvnc_display *qvnc_display_open(qvnc_context *ctx, const char *vnc_options,
                                         const qvnc_display_ops *ops, void *opaque,
                                         qvnc_error **err)
{
    return capi_guard(err, static_cast<qvnc_display *>(nullptr), [&]() -> qvnc_display * {
        if (!ctx || !vnc_options) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing context or -vnc options");
            return nullptr;
        }
        if (ops && ops->struct_size < sizeof(size_t)) {
            set_error(err, QVNC_ERR_INVALID_ARG, "qvnc_display_ops.struct_size is not set");
            return nullptr;
        }
        auto r = ctx->impl.open_display(vnc_options, ops, opaque);
        if (!r) {
            set_error(err, r.error());
            return nullptr;
        }
        return handle_of(r.value());
    });
}

QVNC_API void qvnc_display_close(qvnc_display *display)
{
    capi_guard_void([&] {
        if (display) {
            qvnc::vnc::Server *s = server_of(display);
            s->context().close_display(s);
        }
    });
}

QVNC_API const char *qvnc_display_get_id(const qvnc_display *display)
{
    return display ? server_of(display)->id().c_str() : nullptr;
}

QVNC_API bool qvnc_display_add_client_fd(qvnc_display *display, int fd, bool skipauth,
                                         qvnc_error **err)
{
    qvnc::io::UniqueFd owned(fd); // ours even on failure, as documented
    return capi_guard(err, false, [&] {
        if (!display) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing display");
            return false;
        }
        return check(err, server_of(display)->add_client(std::move(owned), skipauth));
    });
}

QVNC_API bool qvnc_display_set_password(qvnc_display *display, const char *password,
                                        qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!display || !password) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing display or password");
            return false;
        }
        return check(err, server_of(display)->set_password(password));
    });
}

QVNC_API bool qvnc_display_expire_password(qvnc_display *display, int64_t when, qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!display) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing display");
            return false;
        }
        return check(err, server_of(display)->expire_password(when));
    });
}

QVNC_API bool qvnc_display_switch_surface(qvnc_display *display, const qvnc_surface *surface,
                                          qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!display) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing display");
            return false;
        }
        return check(err, server_of(display)->switch_surface(surface));
    });
}

QVNC_API void qvnc_display_update(qvnc_display *display, int x, int y, int w, int h)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->update(x, y, w, h);
        }
    });
}

QVNC_API void qvnc_display_flush(qvnc_display *display)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->flush_damage();
        }
    });
}

QVNC_API bool qvnc_display_set_cursor(qvnc_display *display, int width, int height, int hot_x,
                                      int hot_y, const uint32_t *argb, qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!display) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing display");
            return false;
        }
        return check(err, server_of(display)->set_cursor(width, height, hot_x, hot_y, argb));
    });
}

QVNC_API void qvnc_display_mouse_set(qvnc_display *display, int x, int y, bool visible)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->mouse_set(x, y, visible);
        }
    });
}

QVNC_API void qvnc_display_set_pointer_absolute(qvnc_display *display, bool absolute)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->set_pointer_absolute(absolute);
        }
    });
}

QVNC_API void qvnc_display_set_led_state(qvnc_display *display, unsigned leds)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->set_led_state(leds);
        }
    });
}

QVNC_API bool qvnc_display_copy(qvnc_display *display, int src_x, int src_y, int dst_x, int dst_y,
                                int w, int h, qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!display) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing display");
            return false;
        }
        return check(err, server_of(display)->copy(src_x, src_y, dst_x, dst_y, w, h));
    });
}

QVNC_API void qvnc_display_set_clipboard(qvnc_display *display, const char *utf8, size_t len)
{
    capi_guard_void([&] {
        if (display && utf8) {
            std::string text(utf8, len);
            if (g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
                server_of(display)->set_clipboard(std::move(text));
            }
        }
    });
}

QVNC_API void qvnc_display_set_audio_available(qvnc_display *display, bool available)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->set_audio_available(available);
        }
    });
}

QVNC_API void qvnc_display_audio_write(qvnc_display *display, const int16_t *samples, size_t frames,
                                       int channels, int frequency)
{
    capi_guard_void([&] {
        if (display && samples && channels >= 1 && channels <= 2 && frequency > 0) {
            server_of(display)->audio_write(
                std::span<const int16_t>(samples, frames * static_cast<size_t>(channels)), channels,
                frequency);
        }
    });
}

QVNC_API void qvnc_display_bell(qvnc_display *display)
{
    capi_guard_void([&] {
        if (display) {
            server_of(display)->bell();
        }
    });
}

QVNC_API qvnc_console *qvnc_console_new(qvnc_context *ctx, const char *device_id, int head,
                                        qvnc_error **err)
{
    return capi_guard(err, static_cast<qvnc_console *>(nullptr), [&]() -> qvnc_console * {
        if (!ctx || !device_id) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing context or device id");
            return nullptr;
        }
        auto con = ctx->impl.add_console(device_id, head);
        if (!con) {
            set_error(err, con.error());
            return nullptr;
        }
        return std::make_unique<qvnc_console>(qvnc_console{&ctx->impl, std::move(con.value())}).release();
    });
}

QVNC_API void qvnc_console_free(qvnc_console *console)
{
    capi_guard_void([&] {
        std::unique_ptr<qvnc_console> owned(console);
        if (owned) {
            // The emulator's pixels go away with the console: displays still
            // attached must not read them any more.
            (void)owned->con->switch_surface(nullptr);
            owned->ctx->remove_console(owned->con.get());
        }
    });
}

QVNC_API bool qvnc_console_switch_surface(qvnc_console *console, const qvnc_surface *surface,
                                          qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!console) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing console");
            return false;
        }
        return check(err, console->con->switch_surface(surface));
    });
}

QVNC_API void qvnc_console_update(qvnc_console *console, int x, int y, int w, int h)
{
    capi_guard_void([&] {
        if (console) {
            console->con->update(x, y, w, h);
        }
    });
}

QVNC_API bool qvnc_console_set_cursor(qvnc_console *console, int width, int height, int hot_x,
                                      int hot_y, const uint32_t *argb, qvnc_error **err)
{
    return capi_guard(err, false, [&] {
        if (!console) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing console");
            return false;
        }
        return check(err, console->con->set_cursor(width, height, hot_x, hot_y, argb));
    });
}

QVNC_API void qvnc_console_set_pointer_absolute(qvnc_console *console, bool absolute)
{
    capi_guard_void([&] {
        if (console) {
            console->con->set_pointer_absolute(absolute);
        }
    });
}

QVNC_API void qvnc_console_set_led_state(qvnc_console *console, unsigned leds)
{
    capi_guard_void([&] {
        if (console) {
            console->con->set_led_state(leds);
        }
    });
}

} // extern "C"
