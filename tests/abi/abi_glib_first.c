/* ABI check: the public headers coexist with GLib's own declarations (the
 * GMainContext typedef is repeated, which C11 allows for identical types). */
#include <glib.h>

#include "qvnc.h"

int main(void)
{
    GMainContext *main_context = g_main_context_new();
    qvnc_error *err = NULL;
    qvnc_context *ctx = qvnc_context_new(main_context, &err);
    int rc = 0;

    if (!ctx) {
        /* still an ABI success if the call returned a proper error */
        rc = (err && qvnc_error_get_code(err) != 0 && qvnc_error_get_message(err)) ? 0 : 1;
        qvnc_error_free(err);
    }
    qvnc_context_free(ctx);
    g_main_context_unref(main_context);
    return rc;
}
