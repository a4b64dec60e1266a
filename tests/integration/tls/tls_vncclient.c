/* tls_vncclient: libvncclient over VeNCrypt, for the TLS integration tests.
 *
 *   tls_vncclient HOST PORT OUT.ppm [-ca FILE] [-cert FILE] [-key FILE]
 *                 [-password PW] [-key-sym KEYSYM] [-timeout SECONDS]
 *
 * libvncclient picks the first VeNCrypt sub-type it knows from the server's
 * list, and for the X509 ones asks GetCredential(rfbCredentialTypeX509) for
 * the CA, client certificate and key paths given here.  It then receives one
 * full frame (every pixel covered by a Raw update after the QEMU extended
 * key event ack), writes it as a binary PPM, sends KEYSYM pressed and
 * released if asked, and exits 0.  Failures exit 1 with the reason on
 * stderr (libvncclient's own log lines go there too).  Prints
 * "CONNECTED WxH name=NAME", "FRAME-WRITTEN PATH" and "INPUT-SENT".
 */
#include <rfb/rfbclient.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *opt_ca, *opt_cert, *opt_key, *opt_password;
static unsigned char *painted;
static long unpainted = -1;
static int width, height;
static int asked_x509, asked_password;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static rfbCredential *get_credential(rfbClient *cl, int type)
{
    (void)cl;
    if (type != rfbCredentialTypeX509) {
        fprintf(stderr, "tls_vncclient: credential type %d asked, only x509 is supported here\n", type);
        return NULL;
    }
    asked_x509 = 1;
    /* libvncclient frees the strings and the struct. */
    rfbCredential *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    c->x509Credential.x509CACertFile = dup_or_null(opt_ca);
    c->x509Credential.x509ClientCertFile = dup_or_null(opt_cert);
    c->x509Credential.x509ClientKeyFile = dup_or_null(opt_key);
    c->x509Credential.x509CrlVerifyMode = rfbX509CrlVerifyNone;
    return c;
}

static char *get_password(rfbClient *cl)
{
    (void)cl;
    asked_password = 1;
    if (!opt_password) {
        fprintf(stderr, "tls_vncclient: the server asked for a password, none given\n");
        return NULL;
    }
    return strdup(opt_password);
}

static void on_update(rfbClient *cl, int x, int y, int w, int h)
{
    (void)cl;
    if (!painted) {
        return;
    }
    for (int row = y; row < y + h && row < height; row++) {
        for (int col = x; col < x + w && col < width; col++) {
            unsigned char *p = &painted[(size_t)row * width + col];
            if (!*p) {
                *p = 1;
                unpainted--;
            }
        }
    }
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The client asked for 8 bits per channel, red at shift 0, little endian. */
static int save_ppm(rfbClient *cl, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "tls_vncclient: %s: %s\n", path, strerror(errno));
        return -1;
    }
    const rfbPixelFormat *pf = &cl->format;
    fprintf(f, "P6\n%d %d\n255\n", width, height);
    for (long i = 0; i < (long)width * height; i++) {
        const uint8_t *p = cl->frameBuffer + i * 4;
        uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        unsigned char rgb[3] = {(unsigned char)((v >> pf->redShift) & 0xff),
                                (unsigned char)((v >> pf->greenShift) & 0xff),
                                (unsigned char)((v >> pf->blueShift) & 0xff)};
        fwrite(rgb, 1, 3, f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "tls_vncclient: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

static int pump(rfbClient *cl, double deadline, const char *what)
{
    if (seconds() > deadline) {
        fprintf(stderr, "tls_vncclient: timed out waiting for %s\n", what);
        return -1;
    }
    int n = WaitForMessage(cl, 100000);
    if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl))) {
        fprintf(stderr, "tls_vncclient: connection lost waiting for %s\n", what);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT OUT.ppm [-ca F] [-cert F] [-key F] [-password PW] "
                        "[-key-sym K] [-timeout S]\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *out = argv[3], *keysym = NULL;
    int port = atoi(argv[2]);
    double timeout = 30;
    for (int i = 4; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "-ca")) {
            opt_ca = v;
        } else if (!strcmp(o, "-cert")) {
            opt_cert = v;
        } else if (!strcmp(o, "-key")) {
            opt_key = v;
        } else if (!strcmp(o, "-password")) {
            opt_password = v;
        } else if (!strcmp(o, "-key-sym")) {
            keysym = v;
        } else if (!strcmp(o, "-timeout")) {
            timeout = atof(v);
        } else {
            fprintf(stderr, "tls_vncclient: unknown option %s\n", o);
            return 2;
        }
    }

    rfbClient *cl = rfbGetClient(8, 3, 4);
    if (!cl) {
        return 1;
    }
    cl->GetCredential = get_credential;
    cl->GetPassword = get_password;
    cl->GotFrameBufferUpdate = on_update;
    cl->serverHost = strdup(host);
    cl->serverPort = port;
    cl->canHandleNewFBSize = FALSE;
    cl->appData.encodingsString = "raw";
    if (!rfbInitClient(cl, NULL, NULL)) {
        fprintf(stderr, "tls_vncclient: cannot connect/authenticate to %s:%d (x509 credentials asked: %s, "
                        "password asked: %s)\n", host, port, asked_x509 ? "yes" : "no",
                asked_password ? "yes" : "no");
        return 1;
    }
    width = cl->width;
    height = cl->height;
    printf("CONNECTED %dx%d name=%s x509=%d password=%d\n", width, height,
           cl->desktopName ? cl->desktopName : "", asked_x509, asked_password);
    fflush(stdout);

    /* QEMU acknowledges the extended key event pseudo-encoding with an empty
     * 0,0,WxH rect that libvncclient reports as an update: wait for it before
     * counting painted pixels. */
    double deadline = seconds() + timeout;
    while (!SupportsClient2Server(cl, rfbQemuEvent)) {
        if (pump(cl, deadline, "the QEMU extended key event ack") < 0) {
            return 1;
        }
    }
    painted = calloc((size_t)width * height, 1);
    unpainted = (long)width * height;
    if (!painted || !SendFramebufferUpdateRequest(cl, 0, 0, width, height, FALSE)) {
        return 1;
    }
    while (unpainted > 0) {
        if (pump(cl, deadline, "a full frame") < 0) {
            return 1;
        }
    }
    if (save_ppm(cl, out) != 0) {
        return 1;
    }
    printf("FRAME-WRITTEN %s\n", out);
    fflush(stdout);
    if (keysym) {
        uint32_t k = (uint32_t)strtoul(keysym, NULL, 0);
        if (!SendKeyEvent(cl, k, TRUE) || !SendKeyEvent(cl, k, FALSE)) {
            fprintf(stderr, "tls_vncclient: SendKeyEvent failed\n");
            return 1;
        }
    }
    printf("INPUT-SENT\n");
    fflush(stdout);
    /* One more round trip so the key events are read before we close. */
    SendFramebufferUpdateRequest(cl, 0, 0, 1, 1, FALSE);
    deadline = seconds() + 5;
    while (seconds() < deadline) {
        int n = WaitForMessage(cl, 100000);
        if (n != 0) {
            if (n > 0) {
                HandleRFBServerMessage(cl);
            }
            break;
        }
    }
    free(painted);
    rfbClientCleanup(cl);
    return 0;
}
