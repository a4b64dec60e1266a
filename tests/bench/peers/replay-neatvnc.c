/* A replay server on neatvnc (Debian's 0.5.4) and aml, a benchmark peer.
 *
 * neatvnc encodes in worker threads from the buffer it was fed and holds
 * that buffer until the encode is done, so the replay never writes into a
 * buffer neatvnc holds: it keeps two buffers, each remembering which state
 * it shows, and brings the free one up to date by applying the records it
 * missed (each record is applied twice in all, no full-frame copies).
 * Demand mode feeds the next record when a client sends an incremental
 * update request (neatvnc's fb_req hook), i.e. after it received the
 * previous update. */
#include <aml.h>
#include <neatvnc.h>
#include <pixman.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "replay-common.h"
#include "vfr.h"

#define XRGB8888 0x34325258u /* DRM_FORMAT_XRGB8888, 'XR24' */

struct buffer {
	struct nvnc_fb *fb;
	uint32_t state; /* the record last applied (state index) */
	int held;       /* fed to neatvnc and not yet released */
};

struct replay {
	struct vfr v;
	struct nvnc *server;
	struct nvnc_display *display;
	struct buffer buf[2];
	int current; /* the buffer neatvnc shows */
	uint32_t state;
	struct aml_ticker *ticker;
	struct aml_timer *retry;
	int pending; /* demand mode: a request arrived while both buffers were held */
};

static struct replay *the_replay; /* neatvnc's fb_req hook has no user data */

static void advance(struct replay *r);

static void on_retry(void *obj)
{
	(void)obj;
	if (the_replay->pending)
		advance(the_replay);
}

static void on_release(struct nvnc_fb *fb, void *context)
{
	(void)fb;
	struct buffer *b = context;
	b->held = 0;
	/* A request that found both buffers held is served from the loop,
	 * not from inside neatvnc's release path. */
	if (the_replay->pending && the_replay->retry)
		aml_start(aml_get_default(), the_replay->retry);
}

/* Applies records state+1.. up to `target` onto buffer b; the damage of
 * the last record is returned in `damage` when `damage` is non-NULL. */
static void bring_up_to_date(struct replay *r, struct buffer *b, uint32_t target,
			     struct pixman_region16 *damage)
{
	uint32_t n = r->v.hdr->nframes;
	void *px = nvnc_fb_get_addr(b->fb);
	size_t stride = (size_t)nvnc_fb_get_stride(b->fb) * 4;
	while (b->state != target) {
		uint32_t rec = (b->state + 1) % n;
		const struct vfr_rect *rects;
		uint32_t nr = vfr_apply(&r->v, rec, px, stride, &rects);
		if (rec == target && damage) {
			for (uint32_t k = 0; k < nr; k++)
				pixman_region_union_rect(damage, damage, rects[k].x, rects[k].y,
							 rects[k].w, rects[k].h);
		}
		b->state = rec;
	}
}

static void advance(struct replay *r)
{
	int other = 1 - r->current;
	struct buffer *b = &r->buf[other];
	if (b->held) {
		r->pending = 1;
		return;
	}
	r->pending = 0;
	r->state = (r->state + 1) % r->v.hdr->nframes;
	struct pixman_region16 damage;
	pixman_region_init(&damage);
	bring_up_to_date(r, b, r->state, &damage);
	b->held = 1;
	r->current = other;
	/* One damage call per record: neatvnc takes a region, which is
	 * exactly the union of the record's rects. */
	nvnc_display_feed_buffer(r->display, b->fb, &damage);
	pixman_region_fini(&damage);
}

static void on_fb_req(struct nvnc_client *client, bool incremental, uint16_t x, uint16_t y,
		      uint16_t w, uint16_t h)
{
	(void)client; (void)x; (void)y; (void)w; (void)h;
	if (incremental)
		advance(the_replay);
}

static void on_tick(void *obj)
{
	(void)obj;
	advance(the_replay);
}

static void on_signal(void *obj)
{
	(void)obj;
	aml_exit(aml_get_default());
}

int main(int argc, char **argv)
{
	struct replay_args args;
	if (replay_parse_args(argc, argv, &args, "replay-neatvnc") < 0)
		return 2;
	struct replay r = {0};
	the_replay = &r;
	if (vfr_open(&r.v, args.vfr) != 0)
		return 1;
	uint16_t w = (uint16_t)r.v.hdr->width, h = (uint16_t)r.v.hdr->height;
	struct aml *aml = aml_new();
	if (!aml)
		return 1;
	aml_set_default(aml);
	r.server = nvnc_open("127.0.0.1", (uint16_t)args.port);
	if (!r.server) {
		fprintf(stderr, "replay-neatvnc: cannot listen on port %d\n", args.port);
		return 1;
	}
	nvnc_set_name(r.server, "replay");
	r.display = nvnc_display_new(0, 0);
	nvnc_add_display(r.server, r.display);
	for (int i = 0; i < 2; i++) {
		r.buf[i].fb = nvnc_fb_new(w, h, XRGB8888, w);
		nvnc_fb_set_release_fn(r.buf[i].fb, on_release, &r.buf[i]);
		vfr_load_base(&r.v, nvnc_fb_get_addr(r.buf[i].fb), (size_t)w * 4);
		r.buf[i].state = 0;
	}
	struct pixman_region16 all;
	pixman_region_init_rect(&all, 0, 0, w, h);
	r.buf[0].held = 1;
	nvnc_display_feed_buffer(r.display, r.buf[0].fb, &all);
	pixman_region_fini(&all);

	if (args.fps > 0) {
		uint32_t period_ms = (uint32_t)(1000.0 / args.fps + 0.5);
		r.ticker = aml_ticker_new(period_ms ? period_ms : 1, on_tick, NULL, NULL);
		aml_start(aml, r.ticker);
	} else {
		r.retry = aml_timer_new(0, on_retry, NULL, NULL);
		nvnc_set_fb_req_fn(r.server, on_fb_req);
	}
	struct aml_signal *sigterm = aml_signal_new(SIGTERM, on_signal, NULL, NULL);
	struct aml_signal *sigint = aml_signal_new(SIGINT, on_signal, NULL, NULL);
	aml_start(aml, sigterm);
	aml_start(aml, sigint);
	signal(SIGPIPE, SIG_IGN); /* a client going away is not our death */
	printf("ready %d\n", args.port);
	fflush(stdout);
	aml_run(aml);
	nvnc_close(r.server);
	nvnc_display_unref(r.display);
	for (int i = 0; i < 2; i++)
		nvnc_fb_unref(r.buf[i].fb);
	aml_unref(aml);
	vfr_close(&r.v);
	return 0;
}
