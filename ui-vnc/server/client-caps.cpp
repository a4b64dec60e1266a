#include "client-caps.hpp"

#include "encoder.hpp"
#include "protocol.hpp"

namespace qvnc::vnc {

void ClientCaps::set_encodings(const std::vector<int32_t> &list)
{
    PixelFormat keep_pf = pf;
    bool keep_map = colour_map;
    *this = ClientCaps{};
    pf = keep_pf;
    colour_map = keep_map;
    // QEMU's rules: first-listed supported wins, never Zlib next to ZRLE.
    encoding = choose_encoding(list);
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
        int32_t e = *it;
        namespace enc = rfb::enc;
        switch (e) {
        case enc::CopyRect:
            copy_rect = true;
            break;
        case enc::DesktopSize:
            desktop_size = true;
            break;
        case enc::ExtendedDesktopSize:
            ext_desktop_size = true;
            break;
        case enc::RichCursor:
            rich_cursor = true;
            break;
        case enc::AlphaCursor:
            alpha_cursor = true;
            break;
        case enc::PointerTypeChange:
            pointer_type_change = true;
            break;
        case enc::QemuExtKeyEvent:
            ext_key_event = true;
            break;
        case enc::QemuAudio:
            audio = true;
            break;
        case enc::LedState:
            led_state = true;
            break;
        case enc::DesktopName:
            desktop_name = true;
            break;
        case enc::Wmvi:
            wmvi = true;
            break;
        case enc::Xvp:
            xvp = true;
            break;
        case enc::ContinuousUpdates:
            continuous_updates = true;
            break;
        case enc::Fence:
            fence = true;
            break;
        case enc::ExtClipboard:
            ext_clipboard = true;
            break;
        case enc::LastRect:
            last_rect = true;
            break;
        default:
            if (e >= enc::CompressLevel0 && e <= enc::CompressLevel9) {
                compress_level = e - enc::CompressLevel0;
            } else if (e >= enc::QualityLevel0 && e <= enc::QualityLevel9) {
                quality_level = e - enc::QualityLevel0;
            }
            break;
        }
    }
}

} // namespace qvnc::vnc
