/* qvnc-test-host: a minimal C11 embedder of libqvnc for the integration tests.
 *
 *   qvnc-test-host -vnc OPTS [-vnc OPTS...] [-name NAME] [-object SPEC]...
 *
 * Serves a 64x48 x8r8g8b8 surface of one colour (0x336699) and reads commands
 * from stdin, one per line, answering "OK" or "ERROR <message>":
 *   password PW          qvnc_display_set_password (first display)
 *   expire now|never|+N|SECONDS   qvnc_display_expire_password
 *   paint RRGGBB [flush] [hold FIFO]
 *                        fills the surface, qvnc_display_update on every
 *                        display, then qvnc_display_flush if asked; "hold"
 *                        prints HOLDING and keeps the main loop blocked until
 *                        a byte can be read from FIFO (what the flush sent
 *                        must not need the loop)
 *   paint-on-key RRGGBB  the next key event paints and flushes from inside
 *                        the key callback
 *   nest-on-key MS       the next key event runs the main loop (blocking
 *                        iterations) for MS milliseconds from inside the key
 *                        callback, then prints NESTED-DONE
 *   quit                 stops (also on EOF of stdin or SIGTERM)
 * Prints READY after every display is open, and one line per event:
 *   INPUT key keysym=0x%x qnum=0x%x down=%d, INPUT pointer x=%d y=%d buttons=0x%x,
 *   CLIENT connected|initialized|disconnected host=%s service=%s
 * Only the public header is used.
 */
#include "qvnc.h"

#include <glib.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HOST_W = 64, HOST_H = 48, HOST_MAX_DISPLAYS = 8 };

typedef struct host {
    GMainLoop *loop;
    qvnc_context *ctx;
    qvnc_display *displays[HOST_MAX_DISPLAYS];
    int n_displays;
    uint32_t pixels[HOST_W * HOST_H];
    int status;
    long paint_on_key; /* -1: none */
    long nest_on_key;  /* milliseconds, -1: none */
} host;

static gboolean set_flag(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

static void paint(host *h, uint32_t rgb, bool flush)
{
    int i;

    for (i = 0; i < HOST_W * HOST_H; i++) {
        h->pixels[i] = rgb;
    }
    for (i = 0; i < h->n_displays; i++) {
        qvnc_display_update(h->displays[i], 0, 0, HOST_W, HOST_H);
        if (flush) {
            qvnc_display_flush(h->displays[i]);
        }
    }
}

static void on_key(void *opaque, uint32_t keysym, uint32_t qnum, bool down)
{
    host *h = opaque;

    printf("INPUT key keysym=0x%x qnum=0x%x down=%d\n", (unsigned)keysym, (unsigned)qnum, down ? 1 : 0);
    fflush(stdout);
    if (h->paint_on_key >= 0) {
        /* Re-entry: the library is inside its input path here. */
        paint(h, (uint32_t)h->paint_on_key, true);
        h->paint_on_key = -1;
    }
    if (h->nest_on_key >= 0) {
        /* A nested main loop inside a library callback: what arrives on
         * the client's socket meanwhile must wait for this call to return. */
        bool done = false;
        guint ms = (guint)h->nest_on_key;

        h->nest_on_key = -1;
        g_timeout_add(ms, set_flag, &done);
        while (!done) {
            g_main_context_iteration(NULL, TRUE);
        }
        printf("NESTED-DONE\n");
        fflush(stdout);
    }
}

static void on_pointer(void *opaque, int x, int y, uint32_t buttons)
{
    (void)opaque;
    printf("INPUT pointer x=%d y=%d buttons=0x%x\n", x, y, (unsigned)buttons);
    fflush(stdout);
}

static void on_cut_text(void *opaque, const char *text, size_t len)
{
    (void)opaque;
    printf("INPUT cut-text len=%zu text=%.*s\n", len, (int)len, text);
    fflush(stdout);
}

static void on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *client)
{
    static const char *const names[] = { "connected", "initialized", "disconnected" };
    (void)opaque;
    printf("CLIENT %s host=%s service=%s\n",
           (unsigned)event < 3 ? names[event] : "unknown",
           client && client->host ? client->host : "",
           client && client->service ? client->service : "");
    fflush(stdout);
}

static void answer_error(qvnc_error *err, const char *fallback)
{
    printf("ERROR %s\n", err ? qvnc_error_get_message(err) : fallback);
    fflush(stdout);
    qvnc_error_free(err);
}

static void answer_ok(void)
{
    printf("OK\n");
    fflush(stdout);
}

static void run_command(host *h, char *line)
{
    qvnc_error *err = NULL;
    char *arg;

    g_strstrip(line);
    if (line[0] == '\0') {
        return;
    }
    arg = strchr(line, ' ');
    if (arg) {
        *arg++ = '\0';
    }

    if (strcmp(line, "quit") == 0) {
        answer_ok();
        g_main_loop_quit(h->loop);
    } else if (strcmp(line, "password") == 0) {
        /* "password" alone sets the empty password */
        if (qvnc_display_set_password(h->displays[0], arg ? arg : "", &err)) {
            answer_ok();
        } else {
            answer_error(err, "set_password failed");
        }
    } else if (strcmp(line, "expire") == 0) {
        int64_t when;
        char *end = NULL;

        if (!arg) {
            answer_error(NULL, "expire needs now, never, +SECONDS or SECONDS");
            return;
        }
        if (strcmp(arg, "now") == 0) {
            when = 0;
        } else if (strcmp(arg, "never") == 0) {
            when = -1;
        } else if (arg[0] == '+') {
            long long rel = strtoll(arg + 1, &end, 10);
            if (!end || *end != '\0' || end == arg + 1) {
                answer_error(NULL, "bad relative time");
                return;
            }
            when = (int64_t)time(NULL) + rel;
        } else {
            long long abs_time = strtoll(arg, &end, 10);
            if (!end || *end != '\0' || end == arg) {
                answer_error(NULL, "bad time");
                return;
            }
            when = abs_time;
        }
        if (qvnc_display_expire_password(h->displays[0], when, &err)) {
            answer_ok();
        } else {
            answer_error(err, "expire_password failed");
        }
    } else if (strcmp(line, "nest-on-key") == 0) {
        char *end = NULL;
        long ms = arg ? strtol(arg, &end, 10) : -1;

        if (!arg || end == arg || *end != '\0' || ms < 0 || ms > 60000) {
            answer_error(NULL, "nest-on-key needs MS (0..60000)");
            return;
        }
        h->nest_on_key = ms;
        answer_ok();
    } else if (strcmp(line, "paint") == 0 || strcmp(line, "paint-on-key") == 0) {
        char *end = NULL;
        unsigned long rgb = arg ? strtoul(arg, &end, 16) : 0;
        const char *rest;

        if (!arg || end == arg || rgb > 0xffffffUL || (*end != '\0' && *end != ' ')) {
            answer_error(NULL, "paint needs RRGGBB");
            return;
        }
        if (strcmp(line, "paint-on-key") == 0) {
            h->paint_on_key = (long)rgb;
            answer_ok();
            return;
        }
        rest = end;
        while (*rest == ' ') {
            rest++;
        }
        bool flush = strncmp(rest, "flush", 5) == 0;
        if (flush) {
            rest += 5;
            while (*rest == ' ') {
                rest++;
            }
        }
        paint(h, (uint32_t)rgb, flush);
        if (strncmp(rest, "hold ", 5) == 0) {
            char byte;
            FILE *f;

            printf("HOLDING\n");
            fflush(stdout);
            f = fopen(rest + 5, "rb"); /* blocks until the test opens it for writing */
            if (!f || fread(&byte, 1, 1, f) != 1) {
                if (f) {
                    fclose(f);
                }
                answer_error(NULL, "hold: cannot read the fifo");
                return;
            }
            fclose(f);
        }
        answer_ok();
    } else {
        answer_error(NULL, "unknown command");
    }
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    host *h = data;
    char *line = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    GIOStatus st;

    (void)cond;
    st = g_io_channel_read_line(ch, &line, &len, NULL, &gerr);
    if (st == G_IO_STATUS_NORMAL) {
        run_command(h, line);
        g_free(line);
        return G_SOURCE_CONTINUE;
    }
    if (st == G_IO_STATUS_AGAIN) {
        return G_SOURCE_CONTINUE;
    }
    if (gerr) {
        fprintf(stderr, "qvnc-test-host: stdin: %s\n", gerr->message);
        g_error_free(gerr);
    }
    g_free(line);
    g_main_loop_quit(h->loop); /* EOF */
    return G_SOURCE_REMOVE;
}

static gboolean on_sigterm(gpointer data)
{
    host *h = data;
    g_main_loop_quit(h->loop);
    return G_SOURCE_CONTINUE;
}

static void usage(void)
{
    fprintf(stderr, "usage: qvnc-test-host -vnc OPTS [-vnc OPTS...] [-name NAME] [-object SPEC]...\n");
}

int main(int argc, char **argv)
{
    static host h;
    const char *vnc_opts[HOST_MAX_DISPLAYS];
    int n_vnc = 0;
    const char *name = NULL;
    const char *objects[16];
    int n_objects = 0;
    qvnc_error *err = NULL;
    qvnc_display_ops ops;
    qvnc_surface surface;
    GIOChannel *in;
    int i;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-vnc") == 0 && i + 1 < argc && n_vnc < HOST_MAX_DISPLAYS) {
            vnc_opts[n_vnc++] = argv[++i];
        } else if (strcmp(argv[i], "-name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "-object") == 0 && i + 1 < argc && n_objects < 16) {
            objects[n_objects++] = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    if (n_vnc == 0) {
        usage();
        return 2;
    }

    for (i = 0; i < HOST_W * HOST_H; i++) {
        h.pixels[i] = 0x00336699u;
    }
    h.paint_on_key = -1;
    h.nest_on_key = -1;

    h.loop = g_main_loop_new(NULL, FALSE);
    h.ctx = qvnc_context_new(NULL, &err);
    if (!h.ctx) {
        fprintf(stderr, "qvnc-test-host: context: %s\n", err ? qvnc_error_get_message(err) : "?");
        qvnc_error_free(err);
        return 1;
    }
    if (name) {
        qvnc_context_set_name(h.ctx, name);
    }
    for (i = 0; i < n_objects; i++) {
        if (!qvnc_context_add_object(h.ctx, objects[i], &err)) {
            fprintf(stderr, "qvnc-test-host: -object %s: %s\n", objects[i],
                    err ? qvnc_error_get_message(err) : "?");
            qvnc_error_free(err);
            qvnc_context_free(h.ctx);
            return 1;
        }
    }

    memset(&ops, 0, sizeof ops);
    ops.struct_size = sizeof ops;
    ops.key_event = on_key;
    ops.pointer_event = on_pointer;
    ops.cut_text = on_cut_text;
    ops.client_event = on_client;

    memset(&surface, 0, sizeof surface);
    surface.struct_size = sizeof surface;
    surface.width = HOST_W;
    surface.height = HOST_H;
    surface.stride = HOST_W * 4;
    surface.format = QVNC_FORMAT_X8R8G8B8;
    surface.data = h.pixels;

    for (i = 0; i < n_vnc; i++) {
        qvnc_display *d = qvnc_display_open(h.ctx, vnc_opts[i], &ops, &h, &err);
        if (!d) {
            fprintf(stderr, "qvnc-test-host: -vnc %s: %s\n", vnc_opts[i],
                    err ? qvnc_error_get_message(err) : "?");
            qvnc_error_free(err);
            qvnc_context_free(h.ctx);
            return 1;
        }
        h.displays[h.n_displays++] = d;
        if (!qvnc_display_switch_surface(d, &surface, &err)) {
            fprintf(stderr, "qvnc-test-host: switch_surface: %s\n", err ? qvnc_error_get_message(err) : "?");
            qvnc_error_free(err);
            qvnc_context_free(h.ctx);
            return 1;
        }
    }

    in = g_io_channel_unix_new(0);
    g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &h);
    g_unix_signal_add(SIGTERM, on_sigterm, &h);

    printf("READY\n");
    fflush(stdout);
    g_main_loop_run(h.loop);

    for (i = 0; i < h.n_displays; i++) {
        qvnc_display_close(h.displays[i]);
    }
    qvnc_context_free(h.ctx);
    g_io_channel_unref(in);
    g_main_loop_unref(h.loop);
    return h.status;
}
