/* qvnc: a QEMU-compatible VNC display backend.  Umbrella header. */
#ifndef QVNC_H
#define QVNC_H

#include "qvnc-error.h"
#include "qvnc-display.h"
#include "qvnc-monitor.h"

#endif /* QVNC_H */
