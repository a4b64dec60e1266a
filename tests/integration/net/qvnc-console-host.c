/* qvnc-console-host: an emulator with several display devices, through the
 * public header only, for the display=/head= tests.
 *
 *   qvnc-console-host -vnc OPTS [-vnc OPTS...]
 *
 * Registers three consoles before any display opens, each filled with one
 * x8r8g8b8 colour:
 *   vga0 head 0   64x48  0xcc2200
 *   vga1 head 0   80x60  0x0033cc
 *   vga1 head 1   96x72  0x11aa44
 * then opens each -vnc display and prints READY.  A display that fails to
 * open prints "ERROR <message>" on stderr and the program exits with 1.
 * stdin commands, one per line, answered "OK" or "ERROR <message>":
 *   fill DEVICE HEAD RRGGBB   refills a console and reports the damage
 *   quit
 * Events: INPUT key keysym=0x%x qnum=0x%x down=%d,
 *         CLIENT connected|initialized|disconnected host=%s service=%s
 */
#include "qvnc.h"

#include <glib.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DISPLAYS = 4, N_CONSOLES = 3 };

typedef struct console_def {
    const char *device;
    int head;
    int width, height;
    uint32_t colour;
    uint32_t *pixels;
    qvnc_console *con;
} console_def;

static console_def consoles[N_CONSOLES] = {
    { "vga0", 0, 64, 48, 0xcc2200u, NULL, NULL },
    { "vga1", 0, 80, 60, 0x0033ccu, NULL, NULL },
    { "vga1", 1, 96, 72, 0x11aa44u, NULL, NULL },
};

static GMainLoop *loop;

static void on_key(void *opaque, uint32_t keysym, uint32_t qnum, bool down)
{
    (void)opaque;
    printf("INPUT key keysym=0x%x qnum=0x%x down=%d\n", (unsigned)keysym, (unsigned)qnum, down ? 1 : 0);
    fflush(stdout);
}

static void on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *client)
{
    static const char *const names[] = { "connected", "initialized", "disconnected" };
    (void)opaque;
    printf("CLIENT %s host=%s service=%s\n", (unsigned)event < 3 ? names[event] : "unknown",
           client && client->host ? client->host : "", client && client->service ? client->service : "");
    fflush(stdout);
}

static bool fill(console_def *c, uint32_t colour, qvnc_error **err)
{
    int i;
    qvnc_surface s;

    c->colour = colour;
    for (i = 0; i < c->width * c->height; i++) {
        c->pixels[i] = colour;
    }
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.width = c->width;
    s.height = c->height;
    s.stride = c->width * 4;
    s.format = QVNC_FORMAT_X8R8G8B8;
    s.data = c->pixels;
    return qvnc_console_switch_surface(c->con, &s, err);
}

static void answer(qvnc_error *err, const char *fallback)
{
    if (err || fallback) {
        printf("ERROR %s\n", err ? qvnc_error_get_message(err) : fallback);
        qvnc_error_free(err);
    } else {
        printf("OK\n");
    }
    fflush(stdout);
}

static void command(char *line)
{
    char dev[64];
    int head, i, n;
    unsigned colour;

    g_strstrip(line);
    if (line[0] == '\0') {
        return;
    }
    if (strcmp(line, "quit") == 0) {
        answer(NULL, NULL);
        g_main_loop_quit(loop);
        return;
    }
    n = sscanf(line, "fill %63s %d %x", dev, &head, &colour);
    if (n != 3) {
        answer(NULL, "usage: fill DEVICE HEAD RRGGBB | quit");
        return;
    }
    for (i = 0; i < N_CONSOLES; i++) {
        console_def *c = &consoles[i];
        if (strcmp(c->device, dev) == 0 && c->head == head) {
            int k;
            for (k = 0; k < c->width * c->height; k++) {
                c->pixels[k] = colour;
            }
            c->colour = colour;
            qvnc_console_update(c->con, 0, 0, c->width, c->height);
            answer(NULL, NULL);
            return;
        }
    }
    answer(NULL, "no such console");
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    char *line = NULL;
    gsize len = 0;
    GIOStatus st;

    (void)cond;
    (void)data;
    st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);
    if (st == G_IO_STATUS_NORMAL) {
        command(line);
        g_free(line);
        return G_SOURCE_CONTINUE;
    }
    g_free(line);
    if (st == G_IO_STATUS_AGAIN) {
        return G_SOURCE_CONTINUE;
    }
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data)
{
    (void)data;
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static void free_consoles(void)
{
    int i;

    for (i = 0; i < N_CONSOLES; i++) {
        qvnc_console_free(consoles[i].con);
        consoles[i].con = NULL;
        free(consoles[i].pixels);
        consoles[i].pixels = NULL;
    }
}

int main(int argc, char **argv)
{
    const char *vnc[MAX_DISPLAYS];
    qvnc_display *displays[MAX_DISPLAYS];
    int n_vnc = 0, n_open = 0, i, status = 0;
    qvnc_context *ctx;
    qvnc_error *err = NULL;
    qvnc_display_ops ops;
    GIOChannel *in = NULL;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-vnc") == 0 && i + 1 < argc && n_vnc < MAX_DISPLAYS) {
            vnc[n_vnc++] = argv[++i];
        } else {
            n_vnc = 0;
            break;
        }
    }
    if (n_vnc == 0) {
        fprintf(stderr, "usage: qvnc-console-host -vnc OPTS [-vnc OPTS...]\n");
        return 2;
    }

    ctx = qvnc_context_new(NULL, &err);
    if (!ctx) {
        fprintf(stderr, "ERROR %s\n", qvnc_error_get_message(err));
        qvnc_error_free(err);
        return 1;
    }
    loop = g_main_loop_new(NULL, FALSE);
    for (i = 0; i < N_CONSOLES && status == 0; i++) {
        console_def *c = &consoles[i];
        c->pixels = calloc((size_t)c->width * (size_t)c->height, 4);
        c->con = qvnc_console_new(ctx, c->device, c->head, &err);
        if (!c->pixels || !c->con || !fill(c, c->colour, &err)) {
            fprintf(stderr, "ERROR console %s/%d: %s\n", c->device, c->head,
                    err ? qvnc_error_get_message(err) : "out of memory");
            qvnc_error_free(err);
            err = NULL;
            status = 1;
        }
    }

    memset(&ops, 0, sizeof ops);
    ops.struct_size = sizeof ops;
    ops.key_event = on_key;
    ops.client_event = on_client;
    for (i = 0; i < n_vnc && status == 0; i++) {
        displays[i] = qvnc_display_open(ctx, vnc[i], &ops, NULL, &err);
        if (!displays[i]) {
            fprintf(stderr, "ERROR %s\n", qvnc_error_get_message(err));
            qvnc_error_free(err);
            err = NULL;
            status = 1;
        } else {
            n_open++;
        }
    }

    if (status == 0) {
        in = g_io_channel_unix_new(0);
        g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
        g_unix_signal_add(SIGTERM, on_signal, NULL);
        g_unix_signal_add(SIGINT, on_signal, NULL);
        printf("READY\n");
        g_main_loop_run(loop);
    }

    for (i = 0; i < n_open; i++) {
        qvnc_display_close(displays[i]);
    }
    free_consoles();
    qvnc_context_free(ctx);
    if (in) {
        g_io_channel_unref(in);
    }
    g_main_loop_unref(loop);
    return status;
}
