/* hardening-host: a C11 embedder of libqvnc (public headers only) that the
 * hardening tests drive from stdin, one command per line, each answered
 * with "OK" or "ERROR <message>":
 *
 *   surface W H [FORMAT]      switch to a new W x H surface (x8r8g8b8,
 *                             a8r8g8b8, x8b8g8r8, b8g8r8x8), filled with a
 *                             deterministic picture
 *   fill RRGGBB               paint the whole surface one colour, report it
 *   copy SX SY DX DY W H      blit in the surface and qvnc_display_copy()
 *   scroll N                  move the picture up N rows, draw N new rows at
 *                             the bottom and report the whole surface as
 *                             damage (a guest that scrolls by redrawing)
 *   password [PW]             qvnc_display_set_password (no PW: "")
 *   hmp LINE                  run a monitor command; prints "HMP <text>"
 *                             (the output with \r\n as "\\r\\n") first
 *   animate FRAMES SEED MS RESIZE_EVERY FORMATS [ROWS]
 *                             runs FRAMES frames, one every MS ms, of random
 *                             damage (rectangles of colour and of noise, and
 *                             blits); every RESIZE_EVERY frames (0: never) a
 *                             new surface size, with the format cycling when
 *                             FORMATS is 1; with ROWS, only the top ROWS
 *                             rows change.  Answers OK at once; prints
 *                             "HALFWAY frames=N/2" in the middle and
 *                             "STOPPED frames=N" after the last frame.  The
 *                             picture does not change afterwards.
 *   sprite X Y                move a 24x32 sprite of noise to X,Y (a cursor
 *                             over the picture): its last place gets the
 *                             picture back, and both places are reported
 *                             as damage, one update call each
 *   dump PATH                 write the surface as a binary PPM (P6)
 *   quit                      stop (also on EOF of stdin or SIGTERM)
 *
 *   hardening-host -vnc OPTS [-object SPEC]... [-size WxH]
 *
 * Prints READY when the display is open and one line per client event:
 *   CLIENT connected|initialized|disconnected host=H service=S
 */
#include "qvnc.h"

#include <glib.h>
#include <glib-unix.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct host {
    GMainLoop *loop;
    qvnc_context *ctx;
    qvnc_display *disp;
    qvnc_monitor *mon;
    uint32_t *pixels;   /* x8r8g8b8-style 32-bit words in the current format */
    uint32_t format;
    int w, h;           /* stride is w * 4 */
    int scrolls;        /* `scroll` commands so far: the new rows' colour */
    /* animation */
    int frames_left, frames_done, resize_every, cycle_formats;
    int anim_rows;      /* the animation stays above this row (0: none) */
    guint32 rng;
    guint anim_source;
    int sprite_x, sprite_y, sprite_shown;
    guint32 sprite_rng;
} host;

enum { SPRITE_W = 24, SPRITE_H = 32 };

static const struct {
    const char *name;
    uint32_t code;
} formats[] = {
    {"x8r8g8b8", QVNC_FORMAT_X8R8G8B8},
    {"a8r8g8b8", QVNC_FORMAT_A8R8G8B8},
    {"x8b8g8r8", QVNC_FORMAT_X8B8G8R8},
    {"b8g8r8x8", QVNC_FORMAT_B8G8R8X8},
};

static const int anim_sizes[][2] = {{160, 120}, {96, 64}, {200, 50}, {128, 96}, {33, 17}, {144, 100}};

static guint32 rnd(host *h)
{
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 17;
    h->rng ^= h->rng << 5;
    return h->rng;
}

/* 0x00RRGGBB -> the word for the current format. */
static uint32_t to_format(uint32_t format, uint32_t rgb)
{
    uint32_t r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
    switch (format) {
    case QVNC_FORMAT_A8R8G8B8: return 0xff000000u | r << 16 | g << 8 | b;
    case QVNC_FORMAT_X8B8G8R8: return b << 16 | g << 8 | r;
    case QVNC_FORMAT_B8G8R8X8: return b << 24 | g << 16 | r << 8;
    default: return r << 16 | g << 8 | b;
    }
}

static uint32_t to_rgb(uint32_t format, uint32_t v)
{
    switch (format) {
    case QVNC_FORMAT_X8B8G8R8: return (v & 255) << 16 | (v & 0xff00) | (v >> 16 & 255);
    case QVNC_FORMAT_B8G8R8X8: return (v >> 8 & 255) << 16 | (v >> 16 & 255) << 8 | (v >> 24);
    default: return v & 0xffffff;
    }
}

static void on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *c)
{
    static const char *const names[] = {"connected", "initialized", "disconnected"};
    (void)opaque;
    printf("CLIENT %s host=%s service=%s\n", names[event], c->host, c->service);
    fflush(stdout);
}

/* The deterministic picture of a new W x HH surface at x, y. */
static uint32_t picture_rgb(int x, int y, int w, int hh)
{
    return (uint32_t)((x * 255 / (w > 1 ? w - 1 : 1)) << 16 | (y * 255 / (hh > 1 ? hh - 1 : 1)) << 8 | ((x ^ y) & 0xff));
}

static bool new_surface(host *h, int w, int hh, uint32_t format)
{
    size_t n = (size_t)w * (size_t)hh;
    uint32_t *px = malloc(n * sizeof *px + 4);
    if (!px) {
        return false;
    }
    for (int y = 0; y < hh; y++) {
        for (int x = 0; x < w; x++) {
            px[(size_t)y * w + x] = to_format(format, picture_rgb(x, y, w, hh));
        }
    }
    h->sprite_shown = 0;
    qvnc_surface s = {.struct_size = sizeof s, .width = w, .height = hh, .stride = w * 4, .format = format,
                      .data = px};
    qvnc_error *err = NULL;
    bool ok = qvnc_display_switch_surface(h->disp, &s, &err);
    if (!ok) {
        printf("ERROR %s\n", qvnc_error_get_message(err));
        qvnc_error_free(err);
        free(px);
        return false;
    }
    free(h->pixels); /* only after the switch: the library let go of it */
    h->pixels = px;
    h->w = w;
    h->h = hh;
    h->format = format;
    return true;
}

static void blit(host *h, int sx, int sy, int dx, int dy, int w, int hh)
{
    /* memmove per row, in the order that keeps overlapping copies right */
    if (dy > sy) {
        for (int r = hh - 1; r >= 0; r--) {
            memmove(&h->pixels[(size_t)(dy + r) * h->w + dx], &h->pixels[(size_t)(sy + r) * h->w + sx],
                    (size_t)w * 4);
        }
    } else {
        for (int r = 0; r < hh; r++) {
            memmove(&h->pixels[(size_t)(dy + r) * h->w + dx], &h->pixels[(size_t)(sy + r) * h->w + sx],
                    (size_t)w * 4);
        }
    }
}

static void anim_frame(host *h)
{
    if (h->resize_every > 0 && h->frames_done > 0 && h->frames_done % h->resize_every == 0) {
        int i = (int)(rnd(h) % G_N_ELEMENTS(anim_sizes));
        uint32_t f = h->format;
        if (h->cycle_formats) {
            f = formats[rnd(h) % G_N_ELEMENTS(formats)].code;
        }
        new_surface(h, anim_sizes[i][0], anim_sizes[i][1], f);
    }
    int nrect = 1 + (int)(rnd(h) % 4);
    const int rows = h->anim_rows > 0 && h->anim_rows < h->h ? h->anim_rows : h->h;
    for (int k = 0; k < nrect; k++) {
        int w = 1 + (int)(rnd(h) % (guint32)(h->w < 48 ? h->w : 48));
        int hh = 1 + (int)(rnd(h) % (guint32)(rows < 40 ? rows : 40));
        int x = (int)(rnd(h) % (guint32)(h->w - w + 1));
        int y = (int)(rnd(h) % (guint32)(rows - hh + 1));
        guint32 kind = rnd(h) % 8;
        if (kind == 0 && w < h->w && hh < rows) {
            /* a blit of a block to a random place */
            int dx = (int)(rnd(h) % (guint32)(h->w - w + 1));
            int dy = (int)(rnd(h) % (guint32)(rows - hh + 1));
            blit(h, x, y, dx, dy, w, hh);
            if (!qvnc_display_copy(h->disp, x, y, dx, dy, w, hh, NULL)) {
                qvnc_display_update(h->disp, dx, dy, w, hh);
            }
            continue;
        }
        uint32_t colour = rnd(h) & 0xffffff;
        for (int yy = y; yy < y + hh; yy++) {
            for (int xx = x; xx < x + w; xx++) {
                uint32_t rgb = colour;
                if (kind == 1) {
                    rgb = rnd(h) & 0xffffff; /* noise */
                } else if (kind == 2) {
                    rgb = ((xx + yy) & 4) ? colour : (colour ^ 0xffffff); /* two colours */
                }
                h->pixels[(size_t)yy * h->w + xx] = to_format(h->format, rgb);
            }
        }
        qvnc_display_update(h->disp, x, y, w, hh);
    }
    h->frames_done++;
}

/* Paints the sprite's box at x, y with noise (on) or the picture (off) and
 * reports it; false when it does not fit in the surface. */
static bool paint_sprite(host *h, int x, int y, bool on)
{
    if (x < 0 || y < 0 || x > h->w - SPRITE_W || y > h->h - SPRITE_H) {
        return false;
    }
    for (int yy = y; yy < y + SPRITE_H; yy++) {
        for (int xx = x; xx < x + SPRITE_W; xx++) {
            h->sprite_rng = h->sprite_rng * 1103515245u + 12345u;
            uint32_t rgb = on ? h->sprite_rng >> 8 & 0xffffff : picture_rgb(xx, yy, h->w, h->h);
            h->pixels[(size_t)yy * h->w + xx] = to_format(h->format, rgb);
        }
    }
    qvnc_display_update(h->disp, x, y, SPRITE_W, SPRITE_H);
    return true;
}

static gboolean anim_tick(gpointer data)
{
    host *h = data;
    if (h->frames_left <= 0) {
        h->anim_source = 0;
        printf("STOPPED frames=%d\n", h->frames_done);
        fflush(stdout);
        return G_SOURCE_REMOVE;
    }
    anim_frame(h);
    h->frames_left--;
    if (h->frames_left == h->frames_done) {
        printf("HALFWAY frames=%d\n", h->frames_done);
        fflush(stdout);
    }
    return G_SOURCE_CONTINUE;
}

static bool write_ppm(host *h, const char *path)
{
    char *tmp = g_strdup_printf("%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f != NULL;
    if (ok) {
        fprintf(f, "P6\n%d %d\n255\n", h->w, h->h);
        for (size_t i = 0; i < (size_t)h->w * h->h && ok; i++) {
            uint32_t rgb = to_rgb(h->format, h->pixels[i]);
            unsigned char b[3] = {(unsigned char)(rgb >> 16), (unsigned char)(rgb >> 8), (unsigned char)rgb};
            ok = fwrite(b, 1, 3, f) == 3;
        }
        ok = (fclose(f) == 0) && ok;
    }
    ok = ok && rename(tmp, path) == 0;
    g_free(tmp);
    return ok;
}

static void answer_error(qvnc_error *err, const char *fallback)
{
    printf("ERROR %s\n", err ? qvnc_error_get_message(err) : fallback);
    qvnc_error_free(err);
}

static void print_escaped(const char *prefix, const char *s)
{
    fputs(prefix, stdout);
    for (; *s; s++) {
        if (*s == '\r') {
            fputs("\\r", stdout);
        } else if (*s == '\n') {
            fputs("\\n", stdout);
        } else {
            putchar(*s);
        }
    }
    putchar('\n');
}

static void handle(host *h, char *line)
{
    qvnc_error *err = NULL;
    char *arg = strchr(line, ' ');
    if (arg) {
        *arg++ = '\0';
    }
    if (strcmp(line, "quit") == 0) {
        g_main_loop_quit(h->loop);
        printf("OK\n");
    } else if (strcmp(line, "surface") == 0) {
        int w = 0, hh = 0;
        char fmt[32] = "x8r8g8b8";
        if (!arg || sscanf(arg, "%d %d %31s", &w, &hh, fmt) < 2) {
            answer_error(NULL, "surface W H [FORMAT]");
        } else {
            uint32_t code = 0;
            for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
                if (strcmp(fmt, formats[i].name) == 0) {
                    code = formats[i].code;
                }
            }
            if (!code) {
                answer_error(NULL, "unknown format");
            } else if (new_surface(h, w, hh, code)) {
                printf("OK\n");
            }
        }
    } else if (strcmp(line, "fill") == 0) {
        unsigned rgb = 0;
        if (!arg || sscanf(arg, "%x", &rgb) != 1) {
            answer_error(NULL, "fill RRGGBB");
        } else {
            for (size_t i = 0; i < (size_t)h->w * h->h; i++) {
                h->pixels[i] = to_format(h->format, rgb);
            }
            qvnc_display_update(h->disp, 0, 0, h->w, h->h);
            printf("OK\n");
        }
    } else if (strcmp(line, "copy") == 0) {
        int sx, sy, dx, dy, w, hh;
        if (!arg || sscanf(arg, "%d %d %d %d %d %d", &sx, &sy, &dx, &dy, &w, &hh) != 6) {
            answer_error(NULL, "copy SX SY DX DY W H");
        } else if (!qvnc_display_copy(h->disp, sx, sy, dx, dy, w, hh, &err)) {
            answer_error(err, "copy failed");
        } else {
            /* the library accepted it: the rectangles are inside the surface */
            blit(h, sx, sy, dx, dy, w, hh);
            printf("OK\n");
        }
    } else if (strcmp(line, "scroll") == 0) {
        int n = 0;
        if (!arg || sscanf(arg, "%d", &n) != 1 || n <= 0 || n >= h->h) {
            answer_error(NULL, "scroll N (0 < N < height)");
        } else {
            blit(h, 0, n, 0, 0, h->w, h->h - n);
            h->scrolls++;
            for (int y = h->h - n; y < h->h; y++) {
                for (int x = 0; x < h->w; x++) {
                    uint32_t rgb = (uint32_t)(h->scrolls * 37 & 0xff) << 16 | (uint32_t)(x * 3 & 0xff) << 8 |
                                   (uint32_t)(y * 7 & 0xff);
                    h->pixels[(size_t)y * h->w + x] = to_format(h->format, rgb);
                }
            }
            qvnc_display_update(h->disp, 0, 0, h->w, h->h);
            printf("OK\n");
        }
    } else if (strcmp(line, "password") == 0) {
        if (qvnc_display_set_password(h->disp, arg ? arg : "", &err)) {
            printf("OK\n");
        } else {
            answer_error(err, "set_password failed");
        }
    } else if (strcmp(line, "hmp") == 0) {
        char *out = qvnc_monitor_hmp(h->mon, arg ? arg : "");
        if (!out) {
            answer_error(NULL, "qvnc_monitor_hmp returned NULL");
        } else {
            print_escaped("HMP ", out);
            qvnc_free(out);
            printf("OK\n");
        }
    } else if (strcmp(line, "animate") == 0) {
        int frames, seed, ms, resize_every, cycle, rows = 0;
        if (!arg || sscanf(arg, "%d %d %d %d %d %d", &frames, &seed, &ms, &resize_every, &cycle, &rows) < 5) {
            answer_error(NULL, "animate FRAMES SEED MS RESIZE_EVERY FORMATS [ROWS]");
        } else if (h->anim_source) {
            answer_error(NULL, "already animating");
        } else {
            h->frames_left = frames;
            h->frames_done = 0;
            h->rng = (guint32)seed * 2654435761u + 1;
            h->resize_every = resize_every;
            h->cycle_formats = cycle;
            h->anim_rows = rows;
            h->anim_source = g_timeout_add(ms > 0 ? (guint)ms : 1, anim_tick, h);
            printf("OK\n");
        }
    } else if (strcmp(line, "sprite") == 0) {
        int x, y;
        if (!arg || sscanf(arg, "%d %d", &x, &y) != 2) {
            answer_error(NULL, "sprite X Y");
        } else if (x < 0 || y < 0 || x > h->w - SPRITE_W || y > h->h - SPRITE_H) {
            answer_error(NULL, "sprite: outside the surface");
        } else {
            if (h->sprite_shown) {
                paint_sprite(h, h->sprite_x, h->sprite_y, false);
            }
            paint_sprite(h, x, y, true);
            h->sprite_x = x;
            h->sprite_y = y;
            h->sprite_shown = 1;
            printf("OK\n");
        }
    } else if (strcmp(line, "dump") == 0) {
        if (!arg || !write_ppm(h, arg)) {
            answer_error(NULL, "dump PATH failed");
        } else {
            printf("OK\n");
        }
    } else {
        answer_error(NULL, "unknown command");
    }
    fflush(stdout);
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    host *h = data;
    (void)cond;
    gchar *line = NULL;
    gsize len = 0;
    GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);
    if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR) {
        g_main_loop_quit(h->loop);
        return G_SOURCE_REMOVE;
    }
    if (line) {
        g_strchomp(line);
        handle(h, line);
        g_free(line);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_term(gpointer data)
{
    g_main_loop_quit(((host *)data)->loop);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    host h = {0};
    const char *vnc = NULL;
    int w = 64, hh = 48;
    qvnc_error *err = NULL;
    h.ctx = qvnc_context_new(NULL, &err);
    if (!h.ctx) {
        fprintf(stderr, "hardening-host: %s\n", qvnc_error_get_message(err));
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-vnc") == 0 && i + 1 < argc) {
            vnc = argv[++i];
        } else if (strcmp(argv[i], "-object") == 0 && i + 1 < argc) {
            if (!qvnc_context_add_object(h.ctx, argv[++i], &err)) {
                fprintf(stderr, "hardening-host: -object %s: %s\n", argv[i], qvnc_error_get_message(err));
                return 1;
            }
        } else if (strcmp(argv[i], "-size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &w, &hh) != 2) {
                fprintf(stderr, "hardening-host: -size WxH\n");
                return 1;
            }
        } else {
            fprintf(stderr, "usage: hardening-host -vnc OPTS [-object SPEC]... [-size WxH]\n");
            return 1;
        }
    }
    if (!vnc) {
        fprintf(stderr, "hardening-host: -vnc is required\n");
        return 1;
    }
    qvnc_display_ops ops = {.struct_size = sizeof ops, .client_event = on_client};
    h.disp = qvnc_display_open(h.ctx, vnc, &ops, &h, &err);
    if (!h.disp) {
        fprintf(stderr, "hardening-host: -vnc %s: %s\n", vnc, qvnc_error_get_message(err));
        return 1;
    }
    h.mon = qvnc_monitor_new(h.ctx, NULL, NULL, &err);
    if (!h.mon) {
        fprintf(stderr, "hardening-host: monitor: %s\n", qvnc_error_get_message(err));
        return 1;
    }
    if (!new_surface(&h, w, hh, QVNC_FORMAT_X8R8G8B8)) {
        return 1;
    }
    h.loop = g_main_loop_new(NULL, FALSE);
    GIOChannel *in = g_io_channel_unix_new(0);
    g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &h);
    g_unix_signal_add(SIGTERM, on_term, &h);
    g_unix_signal_add(SIGINT, on_term, &h);
    printf("READY\n");
    fflush(stdout);
    g_main_loop_run(h.loop);
    if (h.anim_source) {
        g_source_remove(h.anim_source);
    }
    g_io_channel_unref(in);
    qvnc_monitor_free(h.mon);
    qvnc_display_close(h.disp);
    qvnc_context_free(h.ctx);
    free(h.pixels);
    g_main_loop_unref(h.loop);
    return 0;
}
