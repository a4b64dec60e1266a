/* Feeds a VFR workload to an X server's root window (for TigerVNC's Xvnc
 * as a benchmark peer): each record's rects go up with one XShmPutImage
 * each, from a shared-memory image holding the current state, then one
 * XSync so the server has taken the whole record.
 *
 *   replay-x11 --vfr FILE --display :N [--fps F]
 *
 * X gives a client no view of VNC update requests, so there is no demand
 * mode: --fps 0 (the default) means "next record as soon as the X server
 * has taken the previous one", and the VNC server sends whatever state
 * the root window holds when its client asks. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfr.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *display_name = NULL;
	double fps = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--vfr") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "--display") == 0)
			display_name = argv[i + 1];
		else if (strcmp(argv[i], "--fps") == 0)
			fps = atof(argv[i + 1]);
	}
	if (!path || !display_name || fps < 0) {
		fprintf(stderr, "usage: replay-x11 --vfr FILE --display :N [--fps F]\n");
		return 2;
	}
	struct vfr v;
	if (vfr_open(&v, path) != 0)
		return 1;
	Display *dpy = XOpenDisplay(display_name);
	if (!dpy) {
		fprintf(stderr, "replay-x11: cannot open display %s\n", display_name);
		return 1;
	}
	int screen = DefaultScreen(dpy);
	Window root = RootWindow(dpy, screen);
	Visual *visual = DefaultVisual(dpy, screen);
	unsigned w = v.hdr->width, h = v.hdr->height;
	if (DefaultDepth(dpy, screen) != 24 || !XShmQueryExtension(dpy)) {
		fprintf(stderr, "replay-x11: needs a depth-24 screen with MIT-SHM\n");
		return 1;
	}
	XShmSegmentInfo shm;
	XImage *img = XShmCreateImage(dpy, visual, 24, ZPixmap, NULL, &shm, w, h);
	if (!img || img->bits_per_pixel != 32) {
		fprintf(stderr, "replay-x11: no 32-bpp shared image\n");
		return 1;
	}
	shm.shmid = shmget(IPC_PRIVATE, (size_t)img->bytes_per_line * h, IPC_CREAT | 0600);
	shm.shmaddr = img->data = shmat(shm.shmid, NULL, 0);
	shm.readOnly = True;
	if (shm.shmid < 0 || shm.shmaddr == (char *)-1 || !XShmAttach(dpy, &shm)) {
		fprintf(stderr, "replay-x11: shared memory failed\n");
		return 1;
	}
	XSync(dpy, False);
	shmctl(shm.shmid, IPC_RMID, NULL); /* freed once both sides detach */
	GC gc = XCreateGC(dpy, root, 0, NULL);
	vfr_load_base(&v, img->data, (size_t)img->bytes_per_line);
	XShmPutImage(dpy, root, gc, img, 0, 0, 0, 0, w, h, False);
	XSync(dpy, False);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);

	uint32_t next = 1 % v.hdr->nframes;
	struct timespec due;
	clock_gettime(CLOCK_MONOTONIC, &due);
	long period_ns = fps > 0 ? (long)(1e9 / fps) : 0;
	while (!stop) {
		const struct vfr_rect *r;
		uint32_t n = vfr_apply(&v, next, img->data, (size_t)img->bytes_per_line, &r);
		for (uint32_t k = 0; k < n; k++)
			XShmPutImage(dpy, root, gc, img, r[k].x, r[k].y, r[k].x, r[k].y, r[k].w,
				     r[k].h, False);
		XSync(dpy, False);
		next = (next + 1) % v.hdr->nframes;
		if (period_ns) {
			due.tv_nsec += period_ns;
			while (due.tv_nsec >= 1000000000L) {
				due.tv_nsec -= 1000000000L;
				due.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		}
	}
	XShmDetach(dpy, &shm);
	XCloseDisplay(dpy);
	shmdt(shm.shmaddr);
	vfr_close(&v);
	return 0;
}
