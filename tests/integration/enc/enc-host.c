/* enc-host: a C11 embedder of libqvnc (public header only) for the
 * encoding tests' guest-side events that qvnc-emu does not produce: the
 * keyboard LEDs and the guest clipboard.  Driven from stdin, one command a
 * line, each answered with "OK" or "ERROR <message>":
 *
 *   led N          qvnc_display_set_led_state(N) (bit 0 scroll, 1 num, 2 caps)
 *   clipboard TEXT qvnc_display_set_clipboard(TEXT) (the rest of the line)
 *   quit           stop (also on EOF of stdin or SIGTERM)
 *
 *   enc-host -vnc OPTS
 *
 * Prints READY when the display is open, then one line per event:
 *   CLIENT connected|initialized|disconnected host=H service=S
 *   INPUT key keysym=0x%x qnum=0x%x down=%d
 *   INPUT cut-text len=N text=TEXT   (bytes outside printable ASCII as \xNN)
 */
#include "qvnc.h"

#include <glib.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HOST_W = 64, HOST_H = 48 };

typedef struct host {
    GMainLoop *loop;
    qvnc_context *ctx;
    qvnc_display *disp;
    uint32_t pixels[HOST_W * HOST_H];
} host;

static void on_key(void *opaque, uint32_t keysym, uint32_t qnum, bool down)
{
    (void)opaque;
    printf("INPUT key keysym=0x%x qnum=0x%x down=%d\n", (unsigned)keysym, (unsigned)qnum, down ? 1 : 0);
}

static void on_cut_text(void *opaque, const char *text, size_t len)
{
    (void)opaque;
    printf("INPUT cut-text len=%zu text=", len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        /* one token per line for the tests' regexes */
        if (c < 0x20 || c > 0x7e || c == '\\') {
            printf("\\x%02x", c);
        } else {
            putchar(c);
        }
    }
    putchar('\n');
}

static void on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *client)
{
    static const char *const names[] = {"connected", "initialized", "disconnected"};
    (void)opaque;
    printf("CLIENT %s host=%s service=%s\n", (unsigned)event < 3 ? names[event] : "unknown",
           client && client->host ? client->host : "", client && client->service ? client->service : "");
}

static void run_command(host *h, char *line)
{
    char *arg;

    /* only the line end: clipboard text keeps its spaces */
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0') {
        return;
    }
    arg = strchr(line, ' ');
    if (arg) {
        *arg++ = '\0';
    }
    if (strcmp(line, "quit") == 0) {
        printf("OK\n");
        g_main_loop_quit(h->loop);
    } else if (strcmp(line, "led") == 0) {
        char *end = NULL;
        long leds = arg ? strtol(arg, &end, 10) : -1;
        if (!arg || *end != '\0' || leds < 0 || leds > 7) {
            printf("ERROR led N (0..7)\n");
        } else {
            qvnc_display_set_led_state(h->disp, (unsigned)leds);
            printf("OK\n");
        }
    } else if (strcmp(line, "clipboard") == 0) {
        const char *text = arg ? arg : "";
        qvnc_display_set_clipboard(h->disp, text, strlen(text));
        printf("OK\n");
    } else {
        printf("ERROR unknown command\n");
    }
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    host *h = data;
    char *line = NULL;
    GIOStatus st;

    (void)cond;
    st = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);
    if (st == G_IO_STATUS_NORMAL) {
        run_command(h, line);
        g_free(line);
        return G_SOURCE_CONTINUE;
    }
    g_free(line);
    if (st == G_IO_STATUS_AGAIN) {
        return G_SOURCE_CONTINUE;
    }
    g_main_loop_quit(h->loop); /* EOF or error */
    return G_SOURCE_REMOVE;
}

static gboolean on_sigterm(gpointer data)
{
    g_main_loop_quit(((host *)data)->loop);
    return G_SOURCE_CONTINUE;
}

static int fail(host *h, const char *what, qvnc_error *err)
{
    fprintf(stderr, "enc-host: %s: %s\n", what, err ? qvnc_error_get_message(err) : "?");
    qvnc_error_free(err);
    if (h->ctx) {
        qvnc_context_free(h->ctx);
    }
    return 1;
}

int main(int argc, char **argv)
{
    static host h;
    qvnc_error *err = NULL;
    qvnc_display_ops ops;
    qvnc_surface surface;
    GIOChannel *in;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3 || strcmp(argv[1], "-vnc") != 0) {
        fprintf(stderr, "usage: enc-host -vnc OPTS\n");
        return 2;
    }
    for (int i = 0; i < HOST_W * HOST_H; i++) {
        h.pixels[i] = 0x00336699u;
    }
    h.loop = g_main_loop_new(NULL, FALSE);
    h.ctx = qvnc_context_new(NULL, &err);
    if (!h.ctx) {
        return fail(&h, "context", err);
    }
    memset(&ops, 0, sizeof ops);
    ops.struct_size = sizeof ops;
    ops.key_event = on_key;
    ops.cut_text = on_cut_text;
    ops.client_event = on_client;
    memset(&surface, 0, sizeof surface);
    surface.struct_size = sizeof surface;
    surface.width = HOST_W;
    surface.height = HOST_H;
    surface.stride = HOST_W * 4;
    surface.format = QVNC_FORMAT_X8R8G8B8;
    surface.data = h.pixels;
    h.disp = qvnc_display_open(h.ctx, argv[2], &ops, &h, &err);
    if (!h.disp) {
        return fail(&h, "-vnc", err);
    }
    if (!qvnc_display_switch_surface(h.disp, &surface, &err)) {
        return fail(&h, "switch_surface", err);
    }
    in = g_io_channel_unix_new(0);
    g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &h);
    g_unix_signal_add(SIGTERM, on_sigterm, &h);
    printf("READY\n");
    g_main_loop_run(h.loop);

    qvnc_display_close(h.disp);
    qvnc_context_free(h.ctx);
    g_io_channel_unref(in);
    g_main_loop_unref(h.loop);
    return 0;
}
