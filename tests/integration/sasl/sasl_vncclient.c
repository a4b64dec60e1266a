/* sasl_vncclient: libvncclient as a second SASL client for the SASL tests.
 *
 *   sasl_vncclient HOST PORT OUT.ppm [-user NAME] [-password PW] [-mech MECH]
 *                  [-ca CA.pem -cert CERT.pem -key KEY.pem] [-timeout SECONDS]
 *
 * Logs in through libvncclient's SASL support (its GetUser and GetPassword
 * callbacks feed cyrus-sasl's AUTHNAME and PASS; -mech picks the mechanism
 * through GetSASLMechanism; GSSAPI needs neither and takes its ticket from
 * KRB5CCNAME), prints "CONNECTED WxH" and "SASL-SSF N" (the security
 * strength of the negotiated layer, 0 without one), receives one complete
 * frame with Raw encoding, writes it as a binary PPM and exits 0.  Any
 * failure exits 1 with the reason on stderr.  With -ca/-cert/-key the
 * GetCredential callback answers libvncclient's x509 question for VeNCrypt
 * (X509SASL); with -user/-password it also answers the user question.
 */
#include <rfb/rfbclient.h>
#include <sasl/sasl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *opt_user, *opt_password, *opt_mech, *opt_ca, *opt_cert, *opt_key;
static unsigned char *painted;
static long unpainted = -1;
static int width, height;

static char *cb_user(rfbClient *cl)
{
    (void)cl;
    if (!opt_user) {
        fprintf(stderr, "sasl_vncclient: SASL asked for a user name, none given\n");
        return NULL;
    }
    /* libvncclient hands this pointer to cyrus-sasl and never frees it. */
    static char user[256];
    snprintf(user, sizeof user, "%s", opt_user);
    return user;
}

static char *cb_password(rfbClient *cl)
{
    (void)cl;
    if (!opt_password) {
        fprintf(stderr, "sasl_vncclient: asked for a password, none given\n");
        return NULL;
    }
    return strdup(opt_password); /* libvncclient wipes and frees it */
}

static char *cb_mech(rfbClient *cl, char *mechlist)
{
    (void)cl;
    printf("SERVER-MECHLIST %s\n", mechlist);
    fflush(stdout);
    return opt_mech ? strdup(opt_mech) : NULL; /* freed by libvncclient */
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static rfbCredential *cb_credential(rfbClient *cl, int type)
{
    (void)cl;
    rfbCredential *c = calloc(1, sizeof *c); /* freed by libvncclient */
    if (!c) {
        return NULL;
    }
    printf("CREDENTIAL-REQUEST %s\n", type == rfbCredentialTypeX509 ? "x509" : "user");
    fflush(stdout);
    if (type == rfbCredentialTypeX509) {
        c->x509Credential.x509CACertFile = dup_or_null(opt_ca);
        c->x509Credential.x509ClientCertFile = dup_or_null(opt_cert);
        c->x509Credential.x509ClientKeyFile = dup_or_null(opt_key);
        c->x509Credential.x509CrlVerifyMode = rfbX509CrlVerifyNone;
    } else if (type == rfbCredentialTypeUser) {
        c->userCredential.username = dup_or_null(opt_user);
        c->userCredential.password = dup_or_null(opt_password);
    } else {
        free(c);
        return NULL;
    }
    return c;
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
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int save_ppm(rfbClient *cl, const char *path)
{
    const rfbPixelFormat *pf = &cl->format;
    int bytes = pf->bitsPerPixel / 8;
    char part[4096];
    FILE *f;

    snprintf(part, sizeof part, "%s.part", path);
    f = fopen(part, "wb");
    if (!f) {
        fprintf(stderr, "sasl_vncclient: cannot write %s: %s\n", part, strerror(errno));
        return -1;
    }
    fprintf(f, "P6\n%d %d\n255\n", width, height);
    for (long i = 0; i < (long)width * height; i++) {
        const uint8_t *px = cl->frameBuffer + i * bytes;
        uint32_t v = 0;
        for (int b = 0; b < bytes; b++) {
            v |= (uint32_t)px[b] << (pf->bigEndian ? 8 * (bytes - 1 - b) : 8 * b);
        }
        unsigned char out[3] = {
            (unsigned char)(((v >> pf->redShift) & pf->redMax) * 255 / pf->redMax),
            (unsigned char)(((v >> pf->greenShift) & pf->greenMax) * 255 / pf->greenMax),
            (unsigned char)(((v >> pf->blueShift) & pf->blueMax) * 255 / pf->blueMax),
        };
        fwrite(out, 1, sizeof out, f);
    }
    if (fclose(f) != 0 || rename(part, path) != 0) {
        fprintf(stderr, "sasl_vncclient: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int pump(rfbClient *cl, double deadline, const char *what)
{
    if (seconds() > deadline) {
        fprintf(stderr, "sasl_vncclient: timed out waiting for %s\n", what);
        return -1;
    }
    int n = WaitForMessage(cl, 100000);
    if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl))) {
        fprintf(stderr, "sasl_vncclient: connection lost while waiting for %s\n", what);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    double timeout = 20;
    rfbClient *cl;

    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT OUT.ppm [-user U] [-password PW] [-mech M] "
                        "[-ca F -cert F -key F] [-timeout S]\n",
                argv[0]);
        return 2;
    }
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-user")) {
            opt_user = argv[i + 1];
        } else if (!strcmp(argv[i], "-password")) {
            opt_password = argv[i + 1];
        } else if (!strcmp(argv[i], "-mech")) {
            opt_mech = argv[i + 1];
        } else if (!strcmp(argv[i], "-ca")) {
            opt_ca = argv[i + 1];
        } else if (!strcmp(argv[i], "-cert")) {
            opt_cert = argv[i + 1];
        } else if (!strcmp(argv[i], "-key")) {
            opt_key = argv[i + 1];
        } else if (!strcmp(argv[i], "-timeout")) {
            timeout = atof(argv[i + 1]);
        } else {
            fprintf(stderr, "sasl_vncclient: unknown option %s\n", argv[i]);
            return 2;
        }
    }

    cl = rfbGetClient(8, 3, 4);
    if (!cl) {
        return 1;
    }
    cl->GetUser = cb_user;
    cl->GetPassword = cb_password;
    cl->GetSASLMechanism = cb_mech;
    if (opt_ca) {
        cl->GetCredential = cb_credential;
    }
    cl->GotFrameBufferUpdate = on_update;
    cl->serverHost = strdup(argv[1]);
    cl->serverPort = atoi(argv[2]);
    cl->canHandleNewFBSize = FALSE;
    cl->appData.encodingsString = "raw";
    if (!rfbInitClient(cl, NULL, NULL)) { /* frees cl on failure */
        fprintf(stderr, "sasl_vncclient: cannot connect or authenticate to %s:%s\n", argv[1], argv[2]);
        return 1;
    }
    width = cl->width;
    height = cl->height;
    const void *ssf = NULL;
    unsigned ssf_value = 0;
    if (cl->saslconn && sasl_getprop(cl->saslconn, SASL_SSF, &ssf) == SASL_OK && ssf) {
        ssf_value = *(const sasl_ssf_t *)ssf;
    }
    printf("CONNECTED %dx%d\nSASL-SSF %u\n", width, height, ssf_value);
    fflush(stdout);

    /* libvncclient always announces QEMU's extended key events; QEMU's
     * acknowledgement is a pseudo-rect that libvncclient reports through
     * GotFrameBufferUpdate like pixels, so pixels are counted only after it. */
    double deadline = seconds() + timeout;
    while (!SupportsClient2Server(cl, rfbQemuEvent)) {
        if (pump(cl, deadline, "the extended key event acknowledgement") != 0) {
            return 1;
        }
    }
    painted = calloc((size_t)width * height, 1);
    unpainted = (long)width * height;
    if (!painted || !SendFramebufferUpdateRequest(cl, 0, 0, width, height, FALSE)) {
        fprintf(stderr, "sasl_vncclient: cannot request the frame\n");
        return 1;
    }
    while (unpainted > 0) {
        if (pump(cl, deadline, "a complete frame") != 0) {
            fprintf(stderr, "sasl_vncclient: %ld of %d pixels missing\n", unpainted, width * height);
            return 1;
        }
    }
    if (save_ppm(cl, argv[3]) != 0) {
        return 1;
    }
    printf("FRAME-WRITTEN %s\n", argv[3]);
    free(painted);
    rfbClientCleanup(cl);
    return 0;
}
