/* test_vncclient: libvncclient as an independent VNC client for the tests.
 *
 *   test_vncclient HOST PORT OUT.ppm [-password PW] [-encodings "LIST"]
 *                  [-keys KEYSYM,...] [-pointer X,Y,MASK] [-timeout SECONDS]
 *
 * Connects, receives one full frame (every pixel covered by an update),
 * writes it as a binary PPM, then sends each keysym pressed and released and
 * the pointer event (if given), and exits 0.  Any failure exits 1 with the
 * reason on stderr.  "FRAME-WRITTEN" and "INPUT-SENT" are printed on stdout.
 */
#include <rfb/rfbclient.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *opt_password;
static unsigned char *covered;
static long missing = -1;
static int fb_w, fb_h;

static char *get_password(rfbClient *cl)
{
    (void)cl;
    if (!opt_password) {
        fprintf(stderr, "test_vncclient: server asked for a password, none given\n");
        return NULL;
    }
    return strdup(opt_password); /* libvncclient frees it */
}

static void got_update(rfbClient *cl, int x, int y, int w, int h)
{
    (void)cl;
    if (!covered) {
        return;
    }
    for (int row = y; row < y + h && row < fb_h; row++) {
        for (int col = x; col < x + w && col < fb_w; col++) {
            if (!covered[row * fb_w + col]) {
                covered[row * fb_w + col] = 1;
                missing--;
            }
        }
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_ppm(rfbClient *cl, const char *path)
{
    char tmp[4096];
    FILE *f;
    const rfbPixelFormat *pf = &cl->format;
    int bpp = pf->bitsPerPixel / 8;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "test_vncclient: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "P6\n%d %d\n255\n", fb_w, fb_h);
    for (int i = 0; i < fb_w * fb_h; i++) {
        const uint8_t *p = cl->frameBuffer + (size_t)i * bpp;
        uint32_t v = 0;
        for (int b = 0; b < bpp; b++) {
            int shift = pf->bigEndian ? 8 * (bpp - 1 - b) : 8 * b;
            v |= (uint32_t)p[b] << shift;
        }
        unsigned r = (v >> pf->redShift) & pf->redMax;
        unsigned g = (v >> pf->greenShift) & pf->greenMax;
        unsigned bl = (v >> pf->blueShift) & pf->blueMax;
        unsigned char rgb[3] = { (unsigned char)(r * 255 / pf->redMax),
                                 (unsigned char)(g * 255 / pf->greenMax),
                                 (unsigned char)(bl * 255 / pf->blueMax) };
        fwrite(rgb, 1, 3, f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "test_vncclient: writing %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *host, *out, *encodings = NULL, *keys = NULL, *pointer = NULL;
    int port;
    double timeout = 30;
    rfbClient *cl;

    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT OUT.ppm [-password PW] [-encodings LIST] "
                        "[-keys K,...] [-pointer X,Y,MASK] [-timeout S]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    out = argv[3];
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-password") == 0) {
            opt_password = argv[i + 1];
        } else if (strcmp(argv[i], "-encodings") == 0) {
            encodings = argv[i + 1];
        } else if (strcmp(argv[i], "-keys") == 0) {
            keys = argv[i + 1];
        } else if (strcmp(argv[i], "-pointer") == 0) {
            pointer = argv[i + 1];
        } else if (strcmp(argv[i], "-timeout") == 0) {
            timeout = atof(argv[i + 1]);
        } else {
            fprintf(stderr, "test_vncclient: unknown option %s\n", argv[i]);
            return 2;
        }
    }

    /* 8 bits per sample, 3 samples, 4 bytes per pixel: R at shift 0 */
    cl = rfbGetClient(8, 3, 4);
    if (!cl) {
        return 1;
    }
    cl->GetPassword = get_password;
    cl->GotFrameBufferUpdate = got_update;
    cl->serverHost = strdup(host);
    cl->serverPort = port;
    cl->canHandleNewFBSize = FALSE;
    if (encodings) {
        cl->appData.encodingsString = encodings;
    }
    if (!rfbInitClient(cl, NULL, NULL)) {
        /* rfbInitClient has freed cl */
        fprintf(stderr, "test_vncclient: cannot connect/authenticate to %s:%d\n", host, port);
        return 1;
    }
    fb_w = cl->width;
    fb_h = cl->height;
    printf("CONNECTED %dx%d name=%s\n", fb_w, fb_h, cl->desktopName ? cl->desktopName : "");
    fflush(stdout);

    /* libvncclient always lists the QEMU extended-key pseudo-encoding, and
     * reports QEMU's acknowledgement (an empty 0,0,WxH rect, sent as soon as
     * the SetEncodings is read) through GotFrameBufferUpdate as if it were
     * pixels.  So the ack is awaited first and pixels are counted after it. */
    double deadline = now_seconds() + timeout;
    while (!SupportsClient2Server(cl, rfbQemuEvent)) {
        if (now_seconds() > deadline) {
            fprintf(stderr, "test_vncclient: no QEMU extended key event ack (-258 rect) after %.0fs\n", timeout);
            return 1;
        }
        int n = WaitForMessage(cl, 100000);
        if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl))) {
            fprintf(stderr, "test_vncclient: connection lost while waiting for the -258 ack\n");
            return 1;
        }
    }
    covered = calloc((size_t)fb_w * fb_h, 1);
    missing = (long)fb_w * fb_h;
    if (!SendFramebufferUpdateRequest(cl, 0, 0, fb_w, fb_h, FALSE)) {
        fprintf(stderr, "test_vncclient: cannot send FramebufferUpdateRequest\n");
        return 1;
    }
    while (missing > 0) {
        if (now_seconds() > deadline) {
            fprintf(stderr, "test_vncclient: %ld of %d pixels missing after %.0fs\n", missing, fb_w * fb_h,
                    timeout);
            return 1;
        }
        int n = WaitForMessage(cl, 100000);
        if (n < 0) {
            fprintf(stderr, "test_vncclient: connection lost while waiting for the frame\n");
            return 1;
        }
        if (n > 0 && !HandleRFBServerMessage(cl)) {
            fprintf(stderr, "test_vncclient: HandleRFBServerMessage failed\n");
            return 1;
        }
    }
    if (write_ppm(cl, out) != 0) {
        return 1;
    }
    printf("FRAME-WRITTEN %s\n", out);
    fflush(stdout);

    if (keys) {
        char *list = strdup(keys), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            uint32_t keysym = (uint32_t)strtoul(tok, NULL, 0);
            if (!SendKeyEvent(cl, keysym, TRUE) || !SendKeyEvent(cl, keysym, FALSE)) {
                fprintf(stderr, "test_vncclient: SendKeyEvent failed\n");
                return 1;
            }
        }
        free(list);
    }
    if (pointer) {
        int x, y, mask;
        if (sscanf(pointer, "%d,%d,%d", &x, &y, &mask) != 3 || !SendPointerEvent(cl, x, y, mask)) {
            fprintf(stderr, "test_vncclient: bad -pointer or SendPointerEvent failed\n");
            return 1;
        }
    }
    printf("INPUT-SENT\n");
    fflush(stdout);
    /* Let the events drain before closing: wait until the server has
     * answered one more (incremental) request or the timeout passes. */
    SendFramebufferUpdateRequest(cl, 0, 0, 1, 1, FALSE);
    deadline = now_seconds() + 5;
    while (now_seconds() < deadline) {
        int n = WaitForMessage(cl, 100000);
        if (n < 0) {
            break;
        }
        if (n > 0) {
            HandleRFBServerMessage(cl);
            break;
        }
    }
    free(covered);
    rfbClientCleanup(cl);
    return 0;
}
