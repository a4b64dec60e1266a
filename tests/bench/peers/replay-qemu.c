/* Feeds a VFR workload to a real QEMU (Debian's qemu-system-x86_64) for the
 * benchmark's qemu peer: QEMU's own VNC server, unmodified, measured by the
 * same bench-client as every other server.
 *
 *   replay-qemu --vfr FILE --port N [--fps F] --guest GUEST.ELF [--qemu PATH]
 *
 * It starts QEMU as its child with the guest RAM in a shared file, a ramfb
 * display and the guest of qemu-guest.c, which points ramfb at a framebuffer
 * in RAM (GUEST_FB_ADDR) and halts.  The feeder maps the same file and
 * writes each record's rects into that framebuffer, as a guest's driver
 * would.  QEMU gets no damage from anyone: ramfb reports the whole screen
 * on every display refresh (every 30 ms while a VNC client keeps up) and
 * QEMU's VNC server compares the guest framebuffer against its own copy to
 * find what changed.  That is what QEMU really does for this device, so the
 * peer measures it, not the damage rects (which QEMU has no way to take).
 *
 * One record at a time, never half of one: QEMU's main thread reads the
 * framebuffer while it refreshes, asynchronously to the feeder, and a
 * record written meanwhile would reach the client torn (and miss every
 * state hash).  So each record is written with QEMU stopped (SIGSTOP) at a
 * moment its main thread is idle in ppoll(), i.e. between two main-loop
 * iterations, never inside a refresh; SIGCONT lets it go on.  A stop lasts
 * as long as one record's memcpy (microseconds to a few milliseconds); the
 * stopped time is not QEMU's CPU time.
 *
 * QEMU gives the guest no view of VNC requests, so there is no demand
 * mode.  --fps F paces records at F per second; --fps 0 (the default)
 * writes one record per QEMU display refresh interval (30 ms,
 * REFRESH_MS below): QEMU looks at the framebuffer only that often, so
 * faster records would only merge into one update, and a refresh that finds
 * nothing new makes QEMU back off (50 ms more per idle refresh).
 *
 * The "ready" line carries QEMU's pid (ready qemu-pid=N): its CPU time is
 * the server's; the feeder's is not counted (like the X client of Xvnc). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "replay-common.h"
#include "vfr.h"

/* The guest's side of the contract (qemu-guest.c). */
#define GUEST_FB_ADDR 0x01000000u
#define GUEST_MAILBOX_ADDR 0x00800000u
#define GUEST_MAILBOX_MAGIC 0x434e5651u
#define GUEST_OK 1

#define REFRESH_MS 30 /* QEMU's VNC_REFRESH_INTERVAL_BASE */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* The state letter of /proc/PID/task/PID/stat (after the last ')'). */
static char thread_state(int fd)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* The syscall number QEMU's main thread is blocked in (from
 * /proc/PID/task/PID/syscall), -1 when it is not in one. */
static long blocked_syscall(int fd)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return buf[0] == 'r' ? -1 : strtol(buf, NULL, 10); /* "running" */
}

struct qemu {
	pid_t pid;
	int stat_fd;    /* /proc/PID/task/PID/stat of the main thread */
	int syscall_fd; /* /proc/PID/task/PID/syscall */
};

/* Stops QEMU with its main thread idle in ppoll (see the top comment).
 * Returns 0 with QEMU stopped, -1 if QEMU is gone. */
static int qemu_hold(const struct qemu *q)
{
	for (;;) {
		if (kill(q->pid, SIGSTOP) != 0)
			return -1;
		/* The main thread stops at once when it sleeps or runs, and
		 * only when next scheduled when it waits for a CPU (a loaded
		 * machine): spin briefly, then poll gently. */
		for (int spin = 0;; spin++) {
			char s = thread_state(q->stat_fd);
			if (s == 'T' || s == 't')
				break;
			if (s == 0 || s == 'Z' || s == 'X')
				return -1;
			if (spin > 100)
				sleep_us(50);
		}
		if (blocked_syscall(q->syscall_fd) == SYS_ppoll)
			return 0;
		/* Inside a main-loop iteration (perhaps a refresh): let it
		 * finish. */
		kill(q->pid, SIGCONT);
		sleep_us(200);
	}
}

static void qemu_release(const struct qemu *q)
{
	kill(q->pid, SIGCONT);
}

static void qemu_end(struct qemu *q)
{
	if (q->pid <= 0)
		return;
	kill(q->pid, SIGTERM);
	kill(q->pid, SIGCONT);
	for (int i = 0; i < 100; i++) {
		if (waitpid(q->pid, NULL, WNOHANG) == q->pid) {
			q->pid = 0;
			return;
		}
		sleep_us(50000);
	}
	kill(q->pid, SIGKILL);
	waitpid(q->pid, NULL, 0);
	q->pid = 0;
}

static pid_t qemu_spawn(const char *qemu, const char *guest, const char *ram_path, size_t ram_mb,
			int port, unsigned w, unsigned h)
{
	char machine_mem[32], backend[512], vnc[64], append[32];
	snprintf(machine_mem, sizeof(machine_mem), "%zuM", ram_mb);
	snprintf(backend, sizeof(backend), "memory-backend-file,id=bench-ram,size=%zuM,mem-path=%s,share=on",
		 ram_mb, ram_path);
	/* lossy=on as for qvnc-emu: QEMU's Tight sends JPEG only with it,
	 * and only to clients that ask for a quality level (tight-jpeg). */
	snprintf(vnc, sizeof(vnc), "127.0.0.1:%d,lossy=on", port - 5900);
	snprintf(append, sizeof(append), "%ux%u", w, h);
	char *argv[] = {(char *)qemu, "-machine", "pc,accel=tcg,memory-backend=bench-ram",
			"-m", machine_mem, "-object", backend,
			"-nodefaults", "-no-user-config", "-device", "ramfb",
			"-display", "none", "-vnc", vnc, "-monitor", "none",
			"-kernel", (char *)guest, "-append", append, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		/* QEMU must not outlive the feeder that holds it stopped. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(qemu, argv);
		perror(qemu);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	/* --guest and --qemu are ours; the rest is replay-common's. */
	const char *guest = NULL, *qemu_path = "/usr/bin/qemu-system-x86_64";
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0;
	if (!rest)
		return 1;
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--guest") == 0)
			guest = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--qemu") == 0)
			qemu_path = argv[++i];
		else
			rest[nrest++] = argv[i];
	}
	struct replay_args args;
	if (replay_parse_args(nrest, rest, &args, "replay-qemu") < 0 || !guest) {
		fprintf(stderr, "replay-qemu also needs --guest GUEST.ELF [--qemu PATH]\n");
		return 2;
	}
	free(rest);
	if (args.port < 5900) {
		fprintf(stderr, "replay-qemu: QEMU's -vnc takes a display number: port must be >= 5900\n");
		return 2;
	}
	struct vfr v;
	if (vfr_open(&v, args.vfr) != 0)
		return 1;
	unsigned w = v.hdr->width, h = v.hdr->height;
	size_t stride = (size_t)w * 4, fb_size = stride * h;
	/* RAM: the framebuffer at 16 MiB and 16 MiB above it, so SeaBIOS's
	 * tables at the top of RAM stay clear of it. */
	size_t ram_mb = (GUEST_FB_ADDR + fb_size + (16u << 20) + (1u << 20) - 1) >> 20;

	char ram_path[128];
	snprintf(ram_path, sizeof(ram_path), "/dev/shm/qvnc-bench-qemu-%d.ram", (int)getpid());
	int ram_fd = open(ram_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (ram_fd < 0 || ftruncate(ram_fd, (off_t)ram_mb << 20) != 0) {
		perror(ram_path);
		unlink(ram_path);
		return 1;
	}
	uint8_t *ram = mmap(NULL, ram_mb << 20, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	close(ram_fd);
	if (ram == MAP_FAILED) {
		perror("mmap");
		unlink(ram_path);
		return 1;
	}
	/* For the pc machine, RAM below 3.5 GiB is the backend from offset 0:
	 * file offset == guest-physical address. */
	volatile uint32_t *mailbox = (volatile uint32_t *)(ram + GUEST_MAILBOX_ADDR);
	uint8_t *fb = ram + GUEST_FB_ADDR;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	struct qemu q = {qemu_spawn(qemu_path, guest, ram_path, ram_mb, args.port, w, h), -1, -1};
	if (q.pid < 0) {
		perror("fork");
		unlink(ram_path);
		return 1;
	}
	/* Up to 60 s for SeaBIOS, the multiboot loader and the guest (TCG). */
	int status = 0;
	for (int i = 0; i < 6000 && !stop && mailbox[0] != GUEST_MAILBOX_MAGIC; i++) {
		if (waitpid(q.pid, &status, WNOHANG) == q.pid) {
			fprintf(stderr, "replay-qemu: QEMU exited (status 0x%x) before the guest was up\n",
				status);
			unlink(ram_path);
			return 1;
		}
		sleep_us(10000);
	}
	/* QEMU has the file mapped by now (or never will): no leftover in
	 * /dev/shm whatever happens next. */
	unlink(ram_path);
	if (mailbox[0] != GUEST_MAILBOX_MAGIC || mailbox[1] != GUEST_OK || mailbox[2] != w ||
	    mailbox[3] != h) {
		fprintf(stderr, "replay-qemu: guest not ready (magic %#x status %u, %ux%u; "
				"status 2 = no fw_cfg DMA, 3 = no etc/ramfb, 4 = DMA error)\n",
			mailbox[0], mailbox[1], mailbox[2], mailbox[3]);
		qemu_end(&q);
		return 1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)q.pid, (int)q.pid);
	q.stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)q.pid, (int)q.pid);
	q.syscall_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (q.stat_fd < 0 || q.syscall_fd < 0) {
		perror(path);
		qemu_end(&q);
		return 1;
	}
	/* No VNC client yet: nothing QEMU reads now is sent, and its next
	 * refresh compares the whole framebuffer again, so the base image
	 * goes in without stopping QEMU. */
	vfr_load_base(&v, fb, stride);
	printf("ready qemu-pid=%d\n", (int)q.pid);
	fflush(stdout);

	uint32_t next = 1 % v.hdr->nframes;
	long period_ns = args.fps > 0 ? (long)(1e9 / args.fps) : REFRESH_MS * 1000000L;
	struct timespec due;
	clock_gettime(CLOCK_MONOTONIC, &due);
	while (!stop) {
		due.tv_nsec += period_ns;
		while (due.tv_nsec >= 1000000000L) {
			due.tv_nsec -= 1000000000L;
			due.tv_sec++;
		}
		/* Fallen behind (a loaded machine): no burst to catch up. */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - due.tv_sec) * 1000000000L + (now.tv_nsec - due.tv_nsec) > period_ns)
			due = now;
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
		if (stop || qemu_hold(&q) != 0)
			break;
		vfr_apply(&v, next, fb, stride, NULL);
		qemu_release(&q);
		next = (next + 1) % v.hdr->nframes;
	}
	int gone = waitpid(q.pid, &status, WNOHANG) == q.pid;
	if (gone)
		q.pid = 0;
	qemu_end(&q);
	close(q.stat_fd);
	close(q.syscall_fd);
	munmap(ram, ram_mb << 20);
	vfr_close(&v);
	if (gone && !stop) {
		fprintf(stderr, "replay-qemu: QEMU exited (status 0x%x)\n", status);
		return 1;
	}
	return 0;
}
