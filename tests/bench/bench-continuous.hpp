// Continuous updates and fences for bench-client, as TigerVNC's viewer and
// noVNC use them: libvncclient (0.9.14) knows neither, so an extension
// adds the two pseudo-encodings (-313, -312) to SetEncodings, and handles
// the server messages they bring:
//
//   EndOfContinuousUpdates (150), the server's "I support them": answered
//   with EnableContinuousUpdates for the whole screen, and from then on
//   libvncclient's own incremental requests are switched off (the server
//   ignores them, and a real CU viewer does not send them);
//   ServerFence (248): a request is answered at once with the flags we
//   know and the payload, which tells the server what we have read.
//
// A server that offers neither (libvncserver, neatvnc, QEMU) sees the
// extra encodings ignored and the classic request/response cycle.
#pragma once

#include <rfb/rfbclient.h>

namespace qvnc_bench {

// Registers the extension (global in libvncclient: once per process).
void enable_continuous_updates();

// Whether the server took the offer on this connection (reported per run).
bool continuous_active(rfbClient *client);

} // namespace qvnc_bench
