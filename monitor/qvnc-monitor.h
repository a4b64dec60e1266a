/* qvnc public C ABI: the QEMU monitor (HMP and QMP).
 *
 * A monitor serves QEMU's human monitor (HMP) and its JSON protocol (QMP)
 * for one context: the VNC commands (query-vnc, set_password, acl_add, ...),
 * the run state (cont, stop, quit) and the VNC_* events.  Commands can be
 * run directly (qvnc_monitor_hmp, qvnc_monitor_qmp) or served on sockets
 * and stdio with QEMU's command-line syntax (-chardev, -mon, -monitor,
 * -qmp).
 *
 * Threading: every call and callback happens on the thread iterating the
 * context's GMainContext.  The context must outlive the monitor.
 */
#ifndef QVNC_MONITOR_H
#define QVNC_MONITOR_H

#include "qvnc-error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qvnc_context qvnc_context;
typedef struct qvnc_monitor qvnc_monitor;

/* The host's side of the run state.  Every member is optional; the
 * struct is copied by qvnc_monitor_new(). */
typedef struct qvnc_monitor_ops {
    size_t struct_size; /* sizeof(qvnc_monitor_ops) */
    /* cont / stop changed the run state: the guest must run or stay still.
     * Not called for qvnc_monitor_set_run_state(). */
    void (*run_state_changed)(void *opaque, bool running);
    /* quit: called from an idle callback after the reply went out and the
     * SHUTDOWN event was sent; the host may free the monitor here. */
    void (*quit)(void *opaque);
} qvnc_monitor_ops;

typedef enum qvnc_run_state {
    QVNC_RUN_STATE_RUNNING = 0,
    QVNC_RUN_STATE_PAUSED = 1,
    QVNC_RUN_STATE_PRELAUNCH = 2 /* QEMU's -S: stopped before the first cont */
} qvnc_run_state;

/* Creates a monitor for `ctx`, in the running state.  `ops` may be NULL. */
QVNC_API qvnc_monitor *qvnc_monitor_new(qvnc_context *ctx, const qvnc_monitor_ops *ops,
                                        void *opaque, qvnc_error **err);
/* Closes every monitor connection (queued replies are flushed briefly) and
 * frees the monitor; NULL is accepted. */
QVNC_API void qvnc_monitor_free(qvnc_monitor *mon);

/* Sets the run state from the host side (e.g. PRELAUNCH for -S).  STOP /
 * RESUME events are sent when running-ness changes; run_state_changed is
 * not called. */
QVNC_API void qvnc_monitor_set_run_state(qvnc_monitor *mon, qvnc_run_state state);
QVNC_API bool qvnc_monitor_is_running(const qvnc_monitor *mon);

/* Runs one HMP command line as a non-interactive monitor would (QMP's
 * human-monitor-command) and returns exactly what it prints, lines ending
 * in "\r\n" ("" when it prints nothing).  NULL only on bad arguments or
 * out of memory.  Free the result with qvnc_free(). */
QVNC_API char *qvnc_monitor_hmp(qvnc_monitor *mon, const char *cmdline);

/* Runs one QMP request ('{"execute": ...}') and returns the reply object as
 * compact JSON without a line terminator.  This session needs no
 * qmp_capabilities.  Free the result with qvnc_free(). */
QVNC_API char *qvnc_monitor_qmp(qvnc_monitor *mon, const char *json);

/* Receives every event as QMP sends it ({"timestamp", "event", "data"},
 * compact JSON, no line terminator).  NULL removes the handler. */
QVNC_API void qvnc_monitor_set_event_handler(qvnc_monitor *mon,
                                             void (*fn)(void *opaque, const char *event_json),
                                             void *opaque);

/* QEMU's -chardev argument ("socket,id=mon0,path=/run/x.sock,server=on,
 * wait=off", "socket,id=c,fd=3,server=on,wait=off", "stdio,id=s", ...).
 * A socket is opened (or the descriptor taken over) now; it serves clients
 * once a -mon names it.  Back ends other than socket, stdio and null fail
 * with QVNC_ERR_UNSUPPORTED (the id stays reserved). */
QVNC_API bool qvnc_monitor_add_chardev(qvnc_monitor *mon, const char *chardev_opts,
                                       qvnc_error **err);
/* QEMU's -mon argument: "chardev=ID[,mode=readline|control][,pretty=on]". */
QVNC_API bool qvnc_monitor_add(qvnc_monitor *mon, const char *mon_opts, qvnc_error **err);
/* QEMU's -monitor (qmp = false) or -qmp (qmp = true) argument: "stdio",
 * "unix:PATH,server=on,wait=off", "tcp:HOST:PORT,server=on,wait=off",
 * "chardev:ID", "null" or "none". */
QVNC_API bool qvnc_monitor_add_legacy(qvnc_monitor *mon, const char *spec, bool qmp,
                                      qvnc_error **err);
/* Serves HMP or QMP on an already connected socket.  The descriptor
 * belongs to the monitor from now on, also when the call fails. */
QVNC_API bool qvnc_monitor_attach_fd(qvnc_monitor *mon, int fd, bool qmp, qvnc_error **err);

#ifdef __cplusplus
}
#endif

#endif /* QVNC_MONITOR_H */
