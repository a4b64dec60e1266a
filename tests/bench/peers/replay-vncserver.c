/* A replay server on libvncserver (Debian's 0.9.14), a benchmark peer.
 * Single-threaded: records are applied between rfbProcessEvents() calls,
 * so every update shows a whole state.  Demand mode applies the next record
 * when some client has a request pending and no modified region left. */
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "replay-common.h"
#include "vfr.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static rfbBool client_wants_frame(rfbScreenInfoPtr screen)
{
	rfbBool ready = FALSE;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen);
	rfbClientPtr cl;
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		if (cl->state == RFB_NORMAL && !sraRgnEmpty(cl->requestedRegion) &&
		    sraRgnEmpty(cl->modifiedRegion))
			ready = TRUE;
	}
	rfbReleaseClientIterator(it);
	return ready;
}

static void apply_next(rfbScreenInfoPtr screen, const struct vfr *v, uint32_t *next)
{
	const struct vfr_rect *r;
	uint32_t n = vfr_apply(v, *next, screen->frameBuffer, (size_t)screen->paddedWidthInBytes, &r);
	for (uint32_t k = 0; k < n; k++)
		rfbMarkRectAsModified(screen, r[k].x, r[k].y, r[k].x + r[k].w, r[k].y + r[k].h);
	*next = (*next + 1) % v->hdr->nframes;
}

int main(int argc, char **argv)
{
	struct replay_args args;
	if (replay_parse_args(argc, argv, &args, "replay-vncserver") < 0)
		return 2;
	struct vfr v;
	if (vfr_open(&v, args.vfr) != 0)
		return 1;
	int w = (int)v.hdr->width, h = (int)v.hdr->height;
	rfbLogEnable(0);
	rfbScreenInfoPtr screen = rfbGetScreen(NULL, NULL, w, h, 8, 3, 4);
	if (!screen)
		return 1;
	/* 0x00RRGGBB words: the VFR pixels as they are. */
	screen->serverFormat.redShift = 16;
	screen->serverFormat.greenShift = 8;
	screen->serverFormat.blueShift = 0;
	screen->frameBuffer = malloc((size_t)w * h * 4);
	if (!screen->frameBuffer)
		return 1;
	vfr_load_base(&v, screen->frameBuffer, (size_t)screen->paddedWidthInBytes);
	screen->desktopName = "replay";
	screen->port = args.port;
	screen->ipv6port = 0;
	screen->autoPort = FALSE;
	screen->listenInterface = htonl(INADDR_LOOPBACK);
	screen->alwaysShared = TRUE;
	/* No server-drawn cursor: it would be painted into the pixels of
	 * clients without cursor encodings, and the frame would not be a
	 * workload state. */
	screen->cursor = NULL;
	/* The default 5 ms defer only coalesces damage; the replay already
	 * paces the damage (demand or fixed rate), so it would only add
	 * latency.  Kept at 0 for every mode. */
	screen->deferUpdateTime = 0;
	rfbInitServer(screen);
	if (screen->listenSock == RFB_INVALID_SOCKET) {
		fprintf(stderr, "replay-vncserver: cannot listen on port %d\n", args.port);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN); /* a client going away is not our death */
	printf("ready %d\n", args.port);
	fflush(stdout);

	uint32_t next = 1 % v.hdr->nframes;
	int64_t period = args.fps > 0 ? (int64_t)(1e6 / args.fps) : 0;
	int64_t due = replay_now_us() + period;
	while (!stop) {
		if (period == 0) {
			if (client_wants_frame(screen)) {
				apply_next(screen, &v, &next);
				rfbProcessEvents(screen, 0);
			} else {
				rfbProcessEvents(screen, 20000);
			}
		} else {
			int64_t now = replay_now_us();
			if (now >= due) {
				apply_next(screen, &v, &next);
				due += period;
				if (due < now)
					due = now + period;
			}
			int64_t wait = due - replay_now_us();
			rfbProcessEvents(screen, wait > 0 ? (long)wait : 0);
		}
	}
	rfbShutdownServer(screen, TRUE);
	free(screen->frameBuffer);
	rfbScreenCleanup(screen);
	vfr_close(&v);
	return 0;
}
