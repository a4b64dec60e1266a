// RFB wire numbers (rfbproto; QEMU's numbering where they differ).
#pragma once

#include <cstdint>

namespace qvnc::rfb {

// Client -> server message types.
enum class ClientMsg : uint8_t {
    SetPixelFormat = 0,
    SetEncodings = 2,
    FramebufferUpdateRequest = 3,
    KeyEvent = 4,
    PointerEvent = 5,
    ClientCutText = 6,
    EnableContinuousUpdates = 150,
    ClientFence = 248,
    Xvp = 250,
    SetDesktopSize = 251,
    Qemu = 255,
};

// Server -> client message types.
enum class ServerMsg : uint8_t {
    FramebufferUpdate = 0,
    SetColourMapEntries = 1,
    Bell = 2,
    ServerCutText = 3,
    EndOfContinuousUpdates = 150,
    ServerFence = 248,
    Xvp = 250,
    Qemu = 255,
};

namespace enc {
constexpr int32_t Raw = 0;
constexpr int32_t CopyRect = 1;
constexpr int32_t Hextile = 5;
constexpr int32_t Zlib = 6;
constexpr int32_t Tight = 7;
constexpr int32_t Zrle = 16;
constexpr int32_t Zywrle = 17;
constexpr int32_t TightPng = -260;
constexpr int32_t CompressLevel0 = -256;
constexpr int32_t CompressLevel9 = -247;
constexpr int32_t QualityLevel0 = -32;
constexpr int32_t QualityLevel9 = -23;
constexpr int32_t LastRect = -224;
constexpr int32_t DesktopSize = -223;
constexpr int32_t RichCursor = -239;
constexpr int32_t XCursor = -240;
constexpr int32_t PointerTypeChange = -257;
constexpr int32_t QemuExtKeyEvent = -258;
constexpr int32_t QemuAudio = -259;
constexpr int32_t LedState = -261;
constexpr int32_t DesktopName = -307;
constexpr int32_t ExtendedDesktopSize = -308;
constexpr int32_t Xvp = -309;
constexpr int32_t Fence = -312;
constexpr int32_t ContinuousUpdates = -313;
constexpr int32_t AlphaCursor = -314;
constexpr int32_t Wmvi = 0x574D5669;
constexpr int32_t ExtClipboard = static_cast<int32_t>(0xC0A1E5CE);
} // namespace enc

// Security types offered in the handshake.
enum class SecType : uint8_t { Invalid = 0, None = 1, Vnc = 2, VeNCrypt = 19, Sasl = 20 };

// Caps from QEMU's ui/vnc.h and the CVE fixes.
constexpr uint32_t kMaxCutText = 1024 * 1024;  // CVE-2015-5239
constexpr int kMaxWidth = 5120;                // VNC_MAX_WIDTH (QEMU >= 9.1)
constexpr int kMaxHeight = 2160;
constexpr const char *kAuthFailed = "Authentication failed";

} // namespace qvnc::rfb
