#include "bench-continuous.hpp"

#include <cstdint>
#include <cstring>

namespace qvnc_bench {

namespace {

int kActiveTag; // client-data key: set once CU is on

constexpr uint8_t kEndOfCu = 150, kFence = 248, kEnableCu = 150;
constexpr uint32_t kFenceRequest = 1u << 31, kFenceKnown = 0x7;

int encodings[] = {-313, -312, 0};

uint32_t be32(const uint8_t *p)
{
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}

rfbBool handle_message(rfbClient *client, rfbServerToClientMsg *msg)
{
    if (msg->type == kEndOfCu) {
        if (continuous_active(client)) {
            return TRUE; // the answer to a disable we never send; nothing to do
        }
        const auto w = static_cast<uint16_t>(client->width), h = static_cast<uint16_t>(client->height);
        const uint8_t enable[10] = {kEnableCu, 1, 0, 0, 0, 0, static_cast<uint8_t>(w >> 8),
                                    static_cast<uint8_t>(w), static_cast<uint8_t>(h >> 8),
                                    static_cast<uint8_t>(h)};
        if (!WriteToRFBServer(client, reinterpret_cast<const char *>(enable), sizeof enable)) {
            return FALSE;
        }
        rfbClientSetClientData(client, &kActiveTag, &kActiveTag);
        // libvncclient asks again after every update unless the message is
        // marked unsupported (SupportsClient2Server); with CU on it must not.
        client->supportedMessages.client2server[rfbFramebufferUpdateRequest / 8] &=
            static_cast<uint8_t>(~(1u << (rfbFramebufferUpdateRequest % 8)));
        return TRUE;
    }
    if (msg->type == kFence) {
        uint8_t head[8]; // 3 padding, flags, payload length
        uint8_t payload[64];
        if (!ReadFromRFBServer(client, reinterpret_cast<char *>(head), sizeof head)) {
            return FALSE;
        }
        const uint32_t flags = be32(head + 3);
        const uint8_t len = head[7];
        if (len > sizeof payload || !ReadFromRFBServer(client, reinterpret_cast<char *>(payload), len)) {
            return FALSE;
        }
        if (!(flags & kFenceRequest)) {
            return TRUE; // an answer: we never ask
        }
        // Everything before the fence is read and handled already, which is
        // what any of the block flags asks.
        const uint32_t answer = flags & kFenceKnown;
        uint8_t out[9 + 64] = {kFence, 0, 0, 0, static_cast<uint8_t>(answer >> 24),
                               static_cast<uint8_t>(answer >> 16), static_cast<uint8_t>(answer >> 8),
                               static_cast<uint8_t>(answer), len};
        std::memcpy(out + 9, payload, len);
        return WriteToRFBServer(client, reinterpret_cast<const char *>(out), 9u + len);
    }
    return FALSE;
}

rfbClientProtocolExtension extension = {
    encodings, nullptr, handle_message, nullptr, nullptr, nullptr,
};

} // namespace

void enable_continuous_updates()
{
    rfbClientRegisterExtension(&extension);
}

bool continuous_active(rfbClient *client)
{
    return rfbClientGetClientData(client, &kActiveTag) != nullptr;
}

} // namespace qvnc_bench
