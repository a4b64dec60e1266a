#include "guest.hpp"

#include "console-guest.hpp"
#include "pattern-guest.hpp"
#include "replay-guest.hpp"

namespace qvnc_emu {

std::unique_ptr<Guest> make_guest(const Options &options, Screen &screen, std::string &error)
{
    switch (options.guest) {
    case GuestKind::Console:
        return std::make_unique<ConsoleGuest>(options, screen);
    case GuestKind::Pattern:
        return std::make_unique<PatternGuest>(options, screen);
    case GuestKind::Replay: {
        auto file = VfrFile::open(options.replay_file, error);
        if (!file) {
            return nullptr;
        }
        return std::make_unique<ReplayGuest>(options, screen, std::move(file));
    }
    }
    error = "unknown guest";
    return nullptr;
}

} // namespace qvnc_emu
