/* qvnc public C ABI: context and displays.
 *
 * Threading: every call and every callback happens on the thread that
 * iterates the GMainContext the context was created with.  The library
 * never iterates the loop itself.
 */
#ifndef QVNC_DISPLAY_H
#define QVNC_DISPLAY_H

#include "qvnc-error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _GMainContext GMainContext;

typedef struct qvnc_context qvnc_context;
typedef struct qvnc_display qvnc_display;

/* ---- context ------------------------------------------------------------ */

/* Creates a context bound to `main_context` (NULL = the default context).
 * Two contexts in one process are independent. */
QVNC_API qvnc_context *qvnc_context_new(GMainContext *main_context,
                                        qvnc_error **err);
/* Closes every display of the context and frees it; NULL is accepted. */
QVNC_API void qvnc_context_free(qvnc_context *ctx);

/* Routes log lines to `fn` (NULL restores the default: stderr, warnings
 * and errors only, or everything when QVNC_DEBUG is set). */
QVNC_API void qvnc_context_set_log_handler(qvnc_context *ctx, qvnc_log_fn fn,
                                           void *opaque);

/* The guest name (QEMU's -name): ServerInit then says "QEMU (<name>)".
 * NULL or "" gives "QEMU". */
QVNC_API void qvnc_context_set_name(qvnc_context *ctx, const char *name);

/* How long a client may take from connecting to ClientInit, security
 * handshake included (default 120000 ms: a person may be typing a
 * password); 0 is taken as 1 ms.  QEMU has no such limit; without one, idle
 * half-open connections hold descriptors forever.  Applies to clients that
 * connect afterwards. */
QVNC_API void qvnc_context_set_handshake_timeout(qvnc_context *ctx, unsigned milliseconds);

/* QEMU's -k LAYOUT (e.g. "de", "fr", "en-us"): keysyms from clients without
 * the QEMU extended key event are turned into scancodes (qnum) with this
 * xkb layout, which then also overrides the extended key event's keycode,
 * as in QEMU.  Without it, keysym-only clients give qnum 0 (the emulator
 * maps the keysym).  Applies to displays opened afterwards. */
QVNC_API bool qvnc_context_set_keymap(qvnc_context *ctx, const char *layout, qvnc_error **err);

/* Adds a user-creatable object written as QEMU's -object argument, in the
 * key=value form ("secret,id=s0,data=pw") or the JSON form
 * ('{"qom-type":"secret","id":"s0","data":"pw"}'). */
QVNC_API bool qvnc_context_add_object(qvnc_context *ctx, const char *spec,
                                      qvnc_error **err);

/* ---- displays ----------------------------------------------------------- */

/* Pixel formats, with pixman's format codes (pixman_format_code_t). */
#define QVNC_FORMAT_A8R8G8B8 0x20028888u
#define QVNC_FORMAT_X8R8G8B8 0x20020888u
#define QVNC_FORMAT_A8B8G8R8 0x20038888u
#define QVNC_FORMAT_X8B8G8R8 0x20030888u
#define QVNC_FORMAT_B8G8R8A8 0x20088888u
#define QVNC_FORMAT_B8G8R8X8 0x20080888u
#define QVNC_FORMAT_R5G6B5   0x10020565u
#define QVNC_FORMAT_X1R5G5B5 0x10020555u

/* A framebuffer the emulator owns.  The pixel memory is borrowed: it must
 * stay valid and keep its layout until the next switch_surface or until
 * the display is closed. */
typedef struct qvnc_surface {
    size_t struct_size; /* sizeof(qvnc_surface) */
    int width;
    int height;
    int stride;         /* bytes per row */
    uint32_t format;    /* QVNC_FORMAT_* (pixman code) */
    const void *data;
} qvnc_surface;

typedef enum qvnc_client_event {
    QVNC_CLIENT_CONNECTED = 0,   /* accepted, before authentication */
    QVNC_CLIENT_INITIALIZED = 1, /* after ServerInit */
    QVNC_CLIENT_DISCONNECTED = 2
} qvnc_client_event;

/* A client as QMP's VncClientInfo describes it.  Valid during the call. */
typedef struct qvnc_client_info {
    size_t struct_size;
    const char *host;          /* "" for unix sockets */
    const char *service;       /* port, or the socket path */
    const char *family;        /* "ipv4" | "ipv6" | "unix" | "unknown" */
    bool websocket;
    const char *x509_dname;    /* NULL unless an x509 client cert was checked */
    const char *sasl_username; /* NULL unless SASL authenticated */
} qvnc_client_info;

/* Pointer button mask bits, as RFB sends them. */
#define QVNC_BUTTON_LEFT       (1u << 0)
#define QVNC_BUTTON_MIDDLE     (1u << 1)
#define QVNC_BUTTON_RIGHT      (1u << 2)
#define QVNC_BUTTON_WHEEL_UP   (1u << 3)
#define QVNC_BUTTON_WHEEL_DOWN (1u << 4)

/* XVP power actions (RFB message 250, with -vnc ...,power-control=on). */
typedef enum qvnc_power_action {
    QVNC_POWER_SHUTDOWN = 2, /* ACPI power button */
    QVNC_POWER_REBOOT = 3,
    QVNC_POWER_RESET = 4
} qvnc_power_action;

/* Callbacks into the emulator.  Every entry may be NULL.  The struct is
 * copied by qvnc_display_open(). */
typedef struct qvnc_display_ops {
    size_t struct_size; /* sizeof(qvnc_display_ops) */
    /* keysym: X11 keysym (0 if unknown); qnum: the QEMU extended-key
     * (XT-based "qnum") keycode when the client sent one, else 0. */
    void (*key_event)(void *opaque, uint32_t keysym, uint32_t qnum, bool down);
    /* Absolute position in framebuffer pixels; QVNC_BUTTON_* mask. */
    void (*pointer_event)(void *opaque, int x, int y, uint32_t buttons);
    /* Client clipboard text, UTF-8 (converted from Latin-1). */
    void (*cut_text)(void *opaque, const char *text, size_t len);
    void (*client_event)(void *opaque, qvnc_client_event event,
                         const qvnc_client_info *client);
    /* A client asked for a new size (SetDesktopSize).  Return true when the
     * request was forwarded to the guest (RFB status 4 "request forwarded");
     * NULL or false answers "invalid layout" as QEMU does without UI info. */
    bool (*desktop_resize)(void *opaque, int width, int height);
    /* A client asked for a power action (power-control=on only).  Return
     * true when it was carried out; NULL or false answers XVP_FAIL. */
    bool (*power_control)(void *opaque, qvnc_power_action action);
    /* A client has an update request pending and everything reported so
     * far has been sent to it: a demand-driven guest (a benchmark replay)
     * may draw its next frame now.  Called from inside the library, maybe
     * several times per request: draw from the main loop, not from here. */
    void (*update_wanted)(void *opaque);
} qvnc_display_ops;

/* Opens a display from the literal argument of QEMU's -vnc option, e.g.
 * "127.0.0.1:0,password=on,id=main".  Listens right away. */
QVNC_API qvnc_display *qvnc_display_open(qvnc_context *ctx,
                                         const char *vnc_options,
                                         const qvnc_display_ops *ops,
                                         void *opaque, qvnc_error **err);
/* Disconnects every client, stops listening and frees; NULL accepted. */
QVNC_API void qvnc_display_close(qvnc_display *display);

/* The display id ("default", "vnc2", or the id= given). */
QVNC_API const char *qvnc_display_get_id(const qvnc_display *display);

/* Serves an already-connected stream socket (QMP add_client).  The display
 * takes ownership of fd, also on failure.  skipauth: no authentication. */
QVNC_API bool qvnc_display_add_client_fd(qvnc_display *display, int fd,
                                         bool skipauth, qvnc_error **err);

/* The VNC password (only the first 8 bytes count).  Fails, as QEMU does,
 * when the display has no password authentication. */
QVNC_API bool qvnc_display_set_password(qvnc_display *display,
                                        const char *password,
                                        qvnc_error **err);
/* Password expiry as absolute seconds since the epoch; 0 = now (every
 * login fails), -1 = never. */
QVNC_API bool qvnc_display_expire_password(qvnc_display *display,
                                           int64_t when, qvnc_error **err);

/* Replaces the surface (resize or format change); the whole screen is
 * resent.  NULL surface = no surface (a blank 640x480). */
QVNC_API bool qvnc_display_switch_surface(qvnc_display *display,
                                          const qvnc_surface *surface,
                                          qvnc_error **err);
/* The emulator changed pixels in the rectangle (clipped to the surface). */
QVNC_API void qvnc_display_update(qvnc_display *display, int x, int y, int w,
                                  int h);
/* Optional: the emulator has finished drawing what it reported with
 * qvnc_display_update, so clients waiting for an update get it now.
 * Without it the damage goes out on the main loop's next turn (every
 * update call of one frame lands before that).  From inside a
 * qvnc_display_ops callback it changes nothing: the next turn sends it. */
QVNC_API void qvnc_display_flush(qvnc_display *display);

/* A cursor image: w*h pixels of 32-bit ARGB (premultiplied is not needed;
 * alpha >= 128 counts as visible for clients without alpha cursors). */
QVNC_API bool qvnc_display_set_cursor(qvnc_display *display, int width,
                                      int height, int hot_x, int hot_y,
                                      const uint32_t *argb, qvnc_error **err);
/* Where the guest pointer is; visible=false hides it. */
QVNC_API void qvnc_display_mouse_set(qvnc_display *display, int x, int y,
                                     bool visible);
/* Keyboard LED state of the guest: QVNC_LED_* bits.  Drives the LED
 * pseudo-encoding and lock-key-sync. */
#define QVNC_LED_SCROLL_LOCK (1u << 0)
#define QVNC_LED_NUM_LOCK    (1u << 1)
#define QVNC_LED_CAPS_LOCK   (1u << 2)
QVNC_API void qvnc_display_set_led_state(qvnc_display *display, unsigned leds);

/* The guest moved a w x h block of its surface from (src_x, src_y) to
 * (dst_x, dst_y) (a blit it already did in its own memory); clients that
 * support CopyRect get a copy instead of the pixels.  Both rectangles must
 * lie inside the surface. */
QVNC_API bool qvnc_display_copy(qvnc_display *display, int src_x, int src_y, int dst_x,
                                int dst_y, int w, int h, qvnc_error **err);

/* The guest clipboard text (UTF-8; copied).  Offered to every client:
 * extended-clipboard clients are notified, others get ServerCutText in
 * Latin-1. */
QVNC_API void qvnc_display_set_clipboard(qvnc_display *display, const char *utf8, size_t len);

/* Audio (QEMU's audio pseudo-encoding): the emulator says it has sound,
 * then writes what the guest plays as interleaved signed 16-bit samples in
 * native byte order; each client gets them converted to the format it
 * asked for.  Clients that fall behind lose audio, not memory. */
QVNC_API void qvnc_display_set_audio_available(qvnc_display *display, bool available);
QVNC_API void qvnc_display_audio_write(qvnc_display *display, const int16_t *samples,
                                       size_t frames, int channels, int frequency);

/* Rings the bell of every client. */
QVNC_API void qvnc_display_bell(qvnc_display *display);

/* Whether the guest wants absolute pointer coordinates (a tablet). */
QVNC_API void qvnc_display_set_pointer_absolute(qvnc_display *display,
                                                bool absolute);

/* ---- consoles ------------------------------------------------------------
 * An emulator with several display devices registers each output as a
 * console; `-vnc ...,display=DEVICE_ID,head=N` shows that console.  A display
 * opened without display= has a private console, which the qvnc_display_*
 * surface calls above drive.  Input still arrives through the display's ops. */
typedef struct qvnc_console qvnc_console;

QVNC_API qvnc_console *qvnc_console_new(qvnc_context *ctx, const char *device_id, int head,
                                        qvnc_error **err);
/* Displays still showing it get a blank surface; NULL accepted. */
QVNC_API void qvnc_console_free(qvnc_console *console);
QVNC_API bool qvnc_console_switch_surface(qvnc_console *console, const qvnc_surface *surface,
                                          qvnc_error **err);
QVNC_API void qvnc_console_update(qvnc_console *console, int x, int y, int w, int h);
QVNC_API bool qvnc_console_set_cursor(qvnc_console *console, int width, int height, int hot_x,
                                      int hot_y, const uint32_t *argb, qvnc_error **err);
QVNC_API void qvnc_console_set_pointer_absolute(qvnc_console *console, bool absolute);
QVNC_API void qvnc_console_set_led_state(qvnc_console *console, unsigned leds);

#ifdef __cplusplus
}
#endif

#endif /* QVNC_DISPLAY_H */
