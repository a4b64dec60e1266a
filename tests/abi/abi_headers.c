/* ABI check: every public header compiles as strict C11 (-std=c11 -pedantic
 * -Wall -Wextra -Werror), in any order, twice (include guards), and the
 * declarations are usable from C: the program takes the address of every
 * entry point and checks the version macros against qvnc_version(). */
#include "qvnc-error.h"
#include "qvnc-display.h"
#include "qvnc.h"
#include "qvnc-display.h"
#include "qvnc-error.h"
#include "qvnc.h"

#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* Compile-time checks of the plain-C view of the ABI types. */
_Static_assert(sizeof(qvnc_error_code) == sizeof(int), "enum size");
_Static_assert(QVNC_CLIENT_CONNECTED == 0 && QVNC_CLIENT_INITIALIZED == 1 && QVNC_CLIENT_DISCONNECTED == 2,
               "client event values");
_Static_assert(QVNC_LOG_ERROR == 0 && QVNC_LOG_DEBUG == 3, "log levels");
_Static_assert(QVNC_FORMAT_X8R8G8B8 == 0x20020888u, "pixman x8r8g8b8 code");
_Static_assert(QVNC_BUTTON_LEFT == 1u && QVNC_BUTTON_WHEEL_DOWN == 16u, "RFB button bits");

typedef void (*any_fn)(void);

int main(void)
{
    const any_fn entry_points[] = {
        (any_fn)qvnc_error_get_code, (any_fn)qvnc_error_get_message, (any_fn)qvnc_error_free,
        (any_fn)qvnc_free, (any_fn)qvnc_version,
        (any_fn)qvnc_context_new, (any_fn)qvnc_context_free, (any_fn)qvnc_context_set_log_handler,
        (any_fn)qvnc_context_set_name, (any_fn)qvnc_context_set_handshake_timeout, (any_fn)qvnc_context_add_object,
        (any_fn)qvnc_display_open, (any_fn)qvnc_display_close, (any_fn)qvnc_display_get_id,
        (any_fn)qvnc_display_add_client_fd, (any_fn)qvnc_display_set_password,
        (any_fn)qvnc_display_expire_password, (any_fn)qvnc_display_switch_surface,
        (any_fn)qvnc_display_update, (any_fn)qvnc_display_flush, (any_fn)qvnc_display_set_cursor, (any_fn)qvnc_display_mouse_set,
        (any_fn)qvnc_display_set_pointer_absolute, (any_fn)qvnc_display_set_led_state,
        (any_fn)qvnc_display_bell, (any_fn)qvnc_console_new, (any_fn)qvnc_console_free,
        (any_fn)qvnc_console_switch_surface, (any_fn)qvnc_console_update,
        (any_fn)qvnc_console_set_cursor, (any_fn)qvnc_console_set_pointer_absolute,
        (any_fn)qvnc_console_set_led_state, (any_fn)qvnc_display_copy,
        (any_fn)qvnc_display_set_clipboard, (any_fn)qvnc_context_set_keymap,
        (any_fn)qvnc_display_set_audio_available, (any_fn)qvnc_display_audio_write,
    };
    qvnc_surface surface = { sizeof(qvnc_surface), 1, 1, 4, QVNC_FORMAT_X8R8G8B8, NULL };
    qvnc_display_ops ops = { sizeof(qvnc_display_ops), NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    qvnc_client_info info = { sizeof(qvnc_client_info), "", "", "unknown", false, NULL, NULL };
    const char *want = STR(QVNC_VERSION_MAJOR) "." STR(QVNC_VERSION_MINOR) "." STR(QVNC_VERSION_MICRO);
    const char *got = qvnc_version();
    size_t i;

    for (i = 0; i < sizeof entry_points / sizeof entry_points[0]; i++) {
        if (!entry_points[i]) {
            fprintf(stderr, "entry point %zu is NULL\n", i);
            return 1;
        }
    }
    if (!got || strcmp(got, want) != 0) {
        fprintf(stderr, "qvnc_version() = %s, headers say %s\n", got ? got : "(null)", want);
        return 1;
    }
    (void)surface;
    (void)ops;
    (void)info;
    printf("qvnc %s: %zu entry points\n", got, sizeof entry_points / sizeof entry_points[0]);
    return 0;
}
